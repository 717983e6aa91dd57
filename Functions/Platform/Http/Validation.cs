namespace Serverless.Functions.Platform.Http;

/// <summary>Collects per-field problems; a handler returns <see cref="Api.Validation(IReadOnlyList{FieldError}, string)"/> when any were found.</summary>
internal sealed class Validator
{
    private readonly List<FieldError> _errors = [];

    public bool IsValid => _errors.Count == 0;
    public IReadOnlyList<FieldError> Errors => _errors;

    public Validator Add(string field, string message)
    {
        _errors.Add(new FieldError(field, message));
        return this;
    }

    public Validator Require(string field, string? value, int maxLength = 200)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return Add(field, $"{field} is required.");
        }

        return MaxLength(field, value, maxLength);
    }

    public Validator MaxLength(string field, string? value, int maxLength)
    {
        if (value is not null && value.Length > maxLength)
        {
            Add(field, $"{field} must be at most {maxLength} characters.");
        }

        return this;
    }

    public Validator When(bool failed, string field, string message) => failed ? Add(field, message) : this;

    /// <summary><paramref name="field"/> of <paramref name="body"/> as a boolean; null when absent or (recorded as a problem) not a boolean.</summary>
    public bool? Flag(System.Text.Json.Nodes.JsonObject body, string field)
    {
        var node = body[field];
        if (node is null)
        {
            return null;
        }

        if (node.GetValueKind() is not (System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False))
        {
            Add(field, $"{field} must be true or false.");
            return null;
        }

        return node.GetValue<bool>();
    }

    /// <summary>
    /// <paramref name="field"/> (at <paramref name="path"/>, for messages) as a copy of its JSON object; an empty object
    /// when absent, and when (recorded as a problem) it is not an object.
    /// </summary>
    public System.Text.Json.Nodes.JsonObject ObjectOrEmpty(System.Text.Json.Nodes.JsonNode? node, string path)
    {
        switch (node)
        {
            case null:
                return [];
            case System.Text.Json.Nodes.JsonObject given:
                return given.DeepClone().AsObject();
            default:
                Add(path, $"{path} must be an object.");
                return [];
        }
    }

    public ErrorResult ToResult() => Api.Validation(_errors);
}
