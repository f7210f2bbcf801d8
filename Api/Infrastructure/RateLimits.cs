using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Infrastructure;

/// <summary>Settings under <c>RateLimiting</c>: requests per client IP per window, for each limited endpoint.</summary>
public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    public bool Enabled { get; set; } = true;

    /// <summary>The fixed window the limits count in.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary><c>POST /register</c> per client IP per window.</summary>
    public int Register { get; set; } = 20;

    /// <summary><c>POST /login</c> per client IP per window.</summary>
    public int Login { get; set; } = 30;

    /// <summary><c>POST /activation/resend</c> per client IP per window.</summary>
    public int Resend { get; set; } = 5;

    /// <summary><c>POST /password/forgot</c> per client IP per window.</summary>
    public int ForgotPassword { get; set; } = 5;

    /// <summary>
    /// <c>POST /activate</c>, <c>POST /password/reset</c> and <c>POST /email/confirm</c>, the endpoints that take a typed code,
    /// per client IP per window: a code is short, so guessing across many addresses is held back here.
    /// </summary>
    public int Codes { get; set; } = 30;

    internal sealed class Validator : IValidateOptions<RateLimitingOptions>
    {
        public ValidateOptionsResult Validate(string? name, RateLimitingOptions options)
        {
            var failures = new List<string>();
            if (options.Window <= TimeSpan.Zero)
            {
                failures.Add("RateLimiting:Window must be positive.");
            }

            foreach (var (key, value) in new[]
            {
                ("Register", options.Register), ("Login", options.Login), ("Resend", options.Resend), ("ForgotPassword", options.ForgotPassword), ("Codes", options.Codes),
            })
            {
                if (value < 1)
                {
                    failures.Add($"RateLimiting:{key} must be at least 1.");
                }
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}

/// <summary>
/// Per-client-IP limits on the endpoints that cost a hash or send mail. A rejection is a 429
/// problem with <c>Retry-After</c>. The client IP is the connection's, or the forwarded one when
/// the request came through a proxy listed in <c>ForwardedHeaders:KnownProxies</c>.
/// </summary>
public static class RateLimits
{
    public const string Register = "register";
    public const string Login = "login";
    public const string Resend = "resend";
    public const string ForgotPassword = "forgot-password";
    public const string Codes = "codes";

    public static IServiceCollection AddApiRateLimiting(this IServiceCollection services)
    {
        services.AddValidatedOptions<RateLimitingOptions, RateLimitingOptions.Validator>(RateLimitingOptions.SectionName);
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitingOptions>>((limiter, settings) =>
        {
            var options = settings.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.OnRejected = OnRejectedAsync;
            AddPolicy(limiter, Register, options, options.Register);
            AddPolicy(limiter, Login, options, options.Login);
            AddPolicy(limiter, Resend, options, options.Resend);
            AddPolicy(limiter, ForgotPassword, options, options.ForgotPassword);
            AddPolicy(limiter, Codes, options, options.Codes);
        });
        return services;
    }

    private static void AddPolicy(RateLimiterOptions limiter, string policy, RateLimitingOptions options, int permits) =>
        limiter.AddPolicy(policy, context => options.Enabled
            ? RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = options.Window, QueueLimit = 0 })
            : RateLimitPartition.GetNoLimiter("off"));

    private static async ValueTask OnRejectedAsync(OnRejectedContext context, CancellationToken cancellationToken)
    {
        var http = context.HttpContext;
        var detail = "Too many requests from this address. Try again later.";
        if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
            http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            detail = $"Too many requests from this address. Try again in {seconds} seconds.";
        }

        var problems = http.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status429TooManyRequests,
                Title = "Too many requests.",
                Detail = detail,
                Extensions = { ["code"] = ProblemCodes.RateLimited },
            },
        });
    }
}
