using System.Globalization;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// A storage fault under any request (<see cref="StorageUnavailableException"/>, or a provider's
/// exception that <see cref="StorageFaults"/> recognises, from a read that went around the seam)
/// answers <c>503</c> problem+json with <c>code: "storage_unavailable"</c> and a <c>Retry-After</c>
/// header in seconds: the request was fine and may succeed later, so it is no 500. The database
/// logs when it stops and starts taking writes; a request's 503 is logged at Debug only.
/// </summary>
public sealed partial class StorageProblems(IProblemDetailsService problems, ILogger<StorageProblems> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (StorageFaults.Classify(exception) is not { } fault)
        {
            return false;
        }

        LogUnavailable(httpContext.Request.Method, httpContext.Request.Path, fault.Reason);
        var seconds = (int)Math.Ceiling(fault.RetryAfter.TotalSeconds);
        httpContext.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status503ServiceUnavailable,
                Title = "The service cannot store or read data right now.",
                Detail = $"Nothing was changed. Try again in {seconds} seconds.",
                Extensions = { ["code"] = ProblemCodes.StorageUnavailable },
            },
            Exception = exception,
        });
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Method} {Path} answered 503: {Reason}")]
    private partial void LogUnavailable(string method, PathString path, string reason);
}
