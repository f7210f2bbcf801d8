using System.Security.Claims;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using FluentValidation;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>Credentials: a username or an email, and the password.</summary>
public sealed record LoginRequest
{
    /// <summary>The username or the email address.</summary>
    /// <example>alice</example>
    public string? Login { get; init; }

    /// <example>correct horse battery staple</example>
    public string? Password { get; init; }
}

public sealed class LoginRequestValidator : AbstractValidator<LoginRequest>
{
    public LoginRequestValidator()
    {
        RuleFor(r => r.Login)
            .NotEmpty().WithMessage("Login is required: a username or an email address.")
            .MaximumLength(EmailAddresses.MaxLength).WithMessage($"Login must be at most {EmailAddresses.MaxLength} characters long.")
            // No username or email has one, and PostgreSQL text cannot hold U+0000.
            .Must(login => login is null || !login.Any(char.IsControl)).WithMessage("Login must not contain control characters.");
        RuleFor(r => r.Password)
            .NotEmpty().WithMessage("Password is required.")
            .MaximumLength(1024).WithMessage("Password must be at most 1024 characters long.");
    }
}

/// <summary>A bearer token for <c>Authorization: Bearer …</c>.</summary>
/// <param name="TokenType">Always <c>Bearer</c>.</param>
/// <param name="AccessToken">The token; opaque to clients.</param>
/// <param name="ExpiresIn">Seconds until it stops working.</param>
public sealed record LoginResponse(string TokenType, string AccessToken, long ExpiresIn);

/// <summary>The signed-in account.</summary>
public sealed record MeResponse(
    Guid Id, string Username, string Email, DateOnly? Birthday, string Status, DateTimeOffset CreatedAt, DateTimeOffset? ActivatedAt);

/// <summary><c>POST /login</c> and <c>GET /me</c>.</summary>
public static class LoginApi
{
    public const string InvalidCredentials = "invalid_credentials";
    public const string AccountNotActivated = "account_not_activated";
    public const string TooManyAttempts = "too_many_attempts";
    public const string SecurityStampClaim = "stamp";

    public static IEndpointRouteBuilder MapLogin(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/login", Login)
            .WithName("Login")
            .WithTags("Accounts")
            .WithSummary("Sign in with a username or email and get a bearer token")
            .WithDescription("An unknown login and a wrong password get the same 401, in about the same time.")
            .Accepts<LoginRequest>("application/json")
            .WithValidation<LoginRequest>()
            .RequireRateLimiting(RateLimits.Login)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        routes.MapGet("/me", Me)
            .WithName("Me")
            .WithTags("Accounts")
            .WithSummary("The signed-in account's profile")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        return routes;
    }

    // The validation filter has run: login and password are present.
    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> Login(
        LoginRequest? request,
        HttpResponse response,
        UserStore users,
        PasswordHashing hashing,
        LoginThrottle throttle,
        Database database,
        IOptionsMonitor<BearerTokenOptions> bearer,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var login = Normalization.Clean(request.Login)!;
        var loginKey = Normalization.Key(login);
        if (await throttle.LockedForAsync(loginKey, cancellationToken) is { } locked && locked > TimeSpan.Zero)
        {
            var seconds = (int)Math.Ceiling(locked.TotalSeconds);
            response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Problems.Problem(StatusCodes.Status429TooManyRequests, TooManyAttempts,
                "Too many failed sign-ins.", $"Try again in {seconds} seconds, or reset the password.");
        }

        var user = await users.FindByLoginAsync(login, cancellationToken);

        // No account: check against a hash all the same, so the answer takes as long as a wrong password.
        var verification = await hashing.VerifyAsync(
            user?.PasswordHash ?? await hashing.DummyHashAsync(), request.Password!, cancellationToken);
        if (user is null || verification == PasswordVerificationResult.Failed)
        {
            await throttle.RecordFailureAsync(loginKey, cancellationToken);
            return Problems.Problem(StatusCodes.Status401Unauthorized, InvalidCredentials, "The login or the password is wrong.");
        }

        if (user.Status != AccountStatus.Active)
        {
            return Problems.Problem(StatusCodes.Status403Forbidden, AccountNotActivated,
                "The account is not activated yet.", "Follow the link in the activation mail, or ask for a new one.");
        }

        await throttle.ClearAsync(loginKey, cancellationToken);
        if (verification == PasswordVerificationResult.SuccessRehashNeeded)
        {
            // Stored at an older, lower cost: store it again at today's.
            var upgraded = await hashing.HashAsync(request.Password!, cancellationToken);
            await database.WriteAsync(
                (connection, transaction) => UserStore.SetPasswordHashAsync(connection, transaction, user.Id, upgraded, newSecurityStamp: null),
                cancellationToken);
        }

        return TypedResults.Ok(IssueToken(user, bearer.Get(BearerTokenDefaults.AuthenticationScheme), time.GetUtcNow()));
    }

    public static async Task<Results<Ok<MeResponse>, ProblemHttpResult>> Me(ClaimsPrincipal principal, UserStore users, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            || await users.FindAsync(id, cancellationToken) is not { } user
            || user.SecurityStamp != principal.FindFirstValue(SecurityStampClaim))
        {
            // The account is gone, or its password changed since this token was issued.
            return Problems.Problem(StatusCodes.Status401Unauthorized, "unauthorized", "The token is no longer valid. Sign in again.");
        }

        return TypedResults.Ok(new MeResponse(
            user.Id, user.Username, user.Email, user.Birthday, user.Status, user.CreatedAt, user.ActivatedAt));
    }

    /// <summary>A token from ASP.NET Core's bearer-token scheme (Data Protection), carrying the account's id and security stamp.</summary>
    private static LoginResponse IssueToken(User user, BearerTokenOptions options, DateTimeOffset now)
    {
        var identity = new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id.ToString()),
                new Claim(ClaimTypes.Name, user.Username),
                new Claim(SecurityStampClaim, user.SecurityStamp),
            ],
            BearerTokenDefaults.AuthenticationScheme);
        var properties = new AuthenticationProperties { IssuedUtc = now, ExpiresUtc = now + options.BearerTokenExpiration };
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(identity), properties, BearerTokenDefaults.AuthenticationScheme);
        return new LoginResponse("Bearer", options.BearerTokenProtector.Protect(ticket), (long)options.BearerTokenExpiration.TotalSeconds);
    }
}
