using System.Text.Json;
using FluentValidation.Results;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// RFC 9457 problem details with the contract's stable <c>code</c> member. Every error the API
/// returns is built here or completed by <see cref="ProblemDetailsSetup"/>.
/// </summary>
public static class Problems
{
    public const string ValidationFailed = "validation_failed";

    /// <summary>A 400 that lists every failing field, keyed by its camelCase request name.</summary>
    public static ValidationProblem Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(
            errors,
            detail: detail,
            title: "One or more fields are invalid.",
            extensions: new Dictionary<string, object?> { ["code"] = ValidationFailed });

    public static ValidationProblem Validation(ValidationResult result) =>
        Validation(result.Errors
            .GroupBy(e => FieldName(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray()));

    public static ValidationProblem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>Any other problem: a status, a short title, and the stable code clients switch on.</summary>
    public static ProblemHttpResult Problem(int status, string code, string title, string? detail = null) =>
        TypedResults.Problem(new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Extensions = { ["code"] = code },
        });

    /// <summary>A request property path (<c>Username</c>, <c>Address.Street</c>) as the JSON field name.</summary>
    public static string FieldName(string propertyPath) =>
        string.Join('.', propertyPath.Split('.').Select(JsonNamingPolicy.CamelCase.ConvertName));
}
