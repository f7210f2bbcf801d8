using System.Reflection;
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

    /// <summary>A 400 that lists every failing field, keyed by its camelCase request name.</summary>
    public static ValidationProblem Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        TypedResults.ValidationProblem(
            errors,
            detail: detail,
            title: "One or more fields are invalid.",
            extensions: new Dictionary<string, object?> { ["code"] = ProblemCodes.ValidationFailed });

    public static ValidationProblem Validation(ValidationResult result) =>
        Validation(result.Errors
            .GroupBy(e => FieldName(e.PropertyName))
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray()));

    public static ValidationProblem Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>
    /// A 400 no one field owns (a body that cannot be read): like every 400 it has <c>errors</c>,
    /// with the message under <c>$</c>, the body as a whole.
    /// </summary>
    public static ValidationProblem BadRequest(string code, string title, string message) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { ["$"] = [message] },
            title: title,
            extensions: new Dictionary<string, object?> { ["code"] = code });

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

/// <summary>
/// The <c>code</c> of every problem that is not a feature's own (those are beside their feature,
/// as <c>Accounts/AccountErrors.cs</c>): one constant each, so that a client switches on a code
/// that is spelled one way everywhere.
/// </summary>
public static class ProblemCodes
{
    public const string ValidationFailed = "validation_failed";
    public const string InvalidJson = "invalid_json";
    public const string BadRequest = "bad_request";
    public const string Unauthorized = "unauthorized";
    public const string Forbidden = "forbidden";
    public const string NotFound = "not_found";
    public const string MethodNotAllowed = "method_not_allowed";
    public const string Conflict = "conflict";
    public const string Gone = "gone";
    public const string PayloadTooLarge = "payload_too_large";
    public const string UnsupportedMediaType = "unsupported_media_type";
    public const string RateLimited = "rate_limited";
    public const string ServiceUnavailable = "service_unavailable";
    public const string StorageUnavailable = "storage_unavailable";
    public const string InternalError = "internal_error";
    public const string Error = "error";

    /// <summary>The codes a class of constants declares (this one, or a feature's own, as <c>AccountErrors</c>), for the OpenAPI document.</summary>
    public static IEnumerable<string> DeclaredIn(Type constants) =>
        constants.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    /// <summary>The code for a status that no endpoint gave a more specific one.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => BadRequest,
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        410 => Gone,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        429 => RateLimited,
        503 => ServiceUnavailable,
        >= 500 => InternalError,
        _ => Error,
    };
}
