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

    public ErrorResult ToResult() => Api.Validation(_errors);
}
