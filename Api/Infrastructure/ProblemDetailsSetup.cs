using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// Every error is <c>application/problem+json</c> with a stable <c>code</c>: the ones endpoints
/// return, the framework's own (404, 405, 413, 415), binding failures (malformed JSON names
/// the field when it can) and unhandled exceptions (a 500 with no internals).
/// </summary>
public static partial class ProblemDetailsSetup
{
    public static IServiceCollection AddApiProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            var problem = context.ProblemDetails;
            problem.Detail ??= (problem.Status ?? context.HttpContext.Response.StatusCode) switch
            {
                StatusCodes.Status405MethodNotAllowed => "This path does not accept that method.",
                StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).",
                _ => null,
            };
            problem.Extensions.TryAdd("code", ProblemCodes.ForStatus(problem.Status ?? context.HttpContext.Response.StatusCode));
            problem.Extensions.TryAdd("traceId", Activity.Current?.Id ?? context.HttpContext.TraceIdentifier);
            if (problem is not HttpValidationProblemDetails && (problem.Status ?? context.HttpContext.Response.StatusCode) == StatusCodes.Status400BadRequest)
            {
                // The contract's ValidationProblem: every 400 has errors; one no field owns is the body's, "$".
                problem.Extensions.TryAdd("errors", new Dictionary<string, string[]> { ["$"] = [problem.Detail ?? "The request could not be read."] });
            }
        });
        services.AddExceptionHandler<StorageProblems>(); // first: a storage fault is a 503, whatever else it is
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Binding failures surface as BadHttpRequestException so the handler above can name the field.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(options => options.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase);
        return services;
    }

    public static WebApplication UseApiProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>
    /// Turns a request the framework could not read into a 400 (or its own 413/415) problem;
    /// a JSON error names the field by its path. Anything else becomes a plain 500.
    /// </summary>
    private sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems, ILogger<BadRequestExceptionHandler> logger)
        : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
        {
            var problem = exception switch
            {
                BadHttpRequestException { InnerException: JsonException json } => JsonProblem(json),
                BadHttpRequestException bad => new ProblemDetails
                {
                    Status = bad.StatusCode,
                    Title = bad.StatusCode switch
                    {
                        StatusCodes.Status413PayloadTooLarge => "The request body is too large.",
                        StatusCodes.Status415UnsupportedMediaType => "The request body must be JSON (Content-Type: application/json).",
                        _ => "The request could not be read.",
                    },
                },
                _ => null,
            };

            if (problem is null)
            {
                LogUnhandled(exception, httpContext.Request.Method, httpContext.Request.Path);
                problem = new ProblemDetails { Status = StatusCodes.Status500InternalServerError, Title = "An unexpected error occurred." };
            }

            httpContext.Response.StatusCode = problem.Status!.Value;
            return await problems.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = httpContext,
                ProblemDetails = problem,
                Exception = exception,
            });
        }

        private static HttpValidationProblemDetails JsonProblem(JsonException json)
        {
            var field = FieldFromPath(json.Path);
            var problem = new HttpValidationProblemDetails
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body is not valid JSON for this endpoint.",
                Extensions = { ["code"] = ProblemCodes.InvalidJson },
            };
            var message = field is null
                ? "The body is not valid JSON."
                : $"The value of '{field}' is malformed or of the wrong type.";
            problem.Errors[field ?? "$"] = [message];
            return problem;
        }

        /// <summary><c>$.username</c> → <c>username</c>; <c>$</c> or nothing → null.</summary>
        private static string? FieldFromPath(string? path)
        {
            if (string.IsNullOrEmpty(path) || path == "$")
            {
                return null;
            }

            var trimmed = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
            return trimmed.Length == 0 ? null : trimmed;
        }

        [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
        private partial void LogUnhandled(Exception exception, string method, PathString path);
    }
}
