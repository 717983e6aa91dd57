namespace Serverless.Storage.Conformance.Tests.Support;

/// <summary>Fresh names that satisfy each store's naming rules, so tests never see one another's data.</summary>
public static class UniqueName
{
    public static string Table() => "t" + Suffix();

    public static string Queue() => "q-" + Suffix();

    public static string Container() => "c-" + Suffix();

    private static string Suffix() => Guid.NewGuid().ToString("N")[..16];
}
