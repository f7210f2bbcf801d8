using System.Net;
using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>A new password, with the token from the reset link.</summary>
public sealed record ResetPasswordRequest
{
    /// <summary>The 43-character token from the reset link.</summary>
    /// <example>q5V2mXk0c7a8J1yq3sWmP4oT9bE6uR2nL0dF8hG5kZw</example>
    public string? Token { get; init; }

    /// <summary>8–128 characters, not easily guessed (zxcvbn score 2 or more).</summary>
    /// <example>a new horse battery staple</example>
    public string? Password { get; init; }

    /// <summary>Must equal <c>password</c>.</summary>
    /// <example>a new horse battery staple</example>
    public string? ConfirmPassword { get; init; }
}

/// <summary>The checks that need no account; strength against the account's own words comes after the token is found.</summary>
public sealed class ResetPasswordRequestValidator : AbstractValidator<ResetPasswordRequest>
{
    public ResetPasswordRequestValidator()
    {
        RuleFor(r => r.Token)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Token is required.")
            .Must(t => AccountTokens.TryHash(t, out _))
            .WithMessage($"Token must be the {AccountTokens.TextLength}-character code from the reset link.");
        RuleFor(r => r.Password)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Password is required.")
            .Must(p => RegisterRequestValidator.CountCharacters(p!) is >= RegisterRequestValidator.PasswordMinLength and <= RegisterRequestValidator.PasswordMaxLength)
            .WithMessage($"Password must be {RegisterRequestValidator.PasswordMinLength} to {RegisterRequestValidator.PasswordMaxLength} characters long.");
        RuleFor(r => r.ConfirmPassword)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Confirm the password.")
            .Equal(r => r.Password).WithMessage("Passwords do not match.");
    }
}

/// <summary><c>POST /password/forgot</c>, <c>POST /password/reset</c> and the reset form at <c>GET /password/reset</c>.</summary>
public static class PasswordResetApi
{
    /// <summary>The mailed reset link is built from this name when <c>PasswordReset:LinkUrl</c> is not set.</summary>
    public const string FormEndpointName = "PasswordResetForm";

    public static IEndpointRouteBuilder MapPasswordReset(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/password").WithTags("Accounts");

        group.MapPost("/forgot", Forgot)
            .WithName("ForgotPassword")
            .WithSummary("Mail a password reset link")
            .WithDescription("Always 202, whether or not the address has an account; at most one mail per address per PasswordReset:Cooldown.")
            .Accepts<EmailRequest>("application/json")
            .WithValidation<EmailRequest>()
            .RequireRateLimiting(RateLimits.ForgotPassword)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapPost("/reset", Reset)
            .WithName("ResetPassword")
            .WithSummary("Set a new password with the token from the reset link")
            .WithDescription("204 on success; outstanding reset links and every earlier bearer token stop working.")
            .Accepts<ResetPasswordRequest>("application/json")
            .WithValidation<ResetPasswordRequest>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status410Gone)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapGet("/reset", Form)
            .WithName(FormEndpointName)
            .WithSummary("The reset form a mailed link opens")
            .WithDescription("A small HTML page that posts the new password to POST /password/reset. Opening it changes nothing.")
            .Produces<string>(StatusCodes.Status200OK, "text/html");
        return routes;
    }

    // The validation filter has run: the address is well formed.
    public static async Task<Accepted<AcceptedResponse>> Forgot(
        EmailRequest? request,
        Database database,
        OutboxSignal outbox,
        IOptions<PasswordResetOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var outboxId = await database.WriteAsync(
            async (connection, transaction) =>
                await UserStore.FindByEmailAsync(connection, transaction, request.Email!) is { } user
                    ? await AccountMail.QueueAsync(connection, transaction, user, AccountEmailKinds.PasswordReset,
                        [AccountEmailKinds.PasswordReset], options.Value.Cooldown, now)
                    : null,
            cancellationToken);

        if (outboxId is { } id)
        {
            outbox.Notify(id);
        }

        return TypedResults.Accepted((string?)null, AcceptedResponse.Instance);
    }

    // The validation filter has run: the token is well formed and the two passwords match.
    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Reset(
        ResetPasswordRequest? request,
        AccountTokenStore tokens,
        UserStore users,
        PasswordStrength strength,
        PasswordHashing hashing,
        Database database,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        AccountTokens.TryHash(request.Token, out var hash);
        var state = await tokens.FindAsync(hash, TokenPurpose.PasswordReset, cancellationToken);
        var now = time.GetUtcNow();
        if (state is null || await users.FindAsync(state.UserId, cancellationToken) is not { } user)
        {
            return NotFound();
        }

        if (state.ConsumedAt is not null || state.ExpiresAt <= now)
        {
            return Gone();
        }

        if (strength.Score(request.Password!, user.Username, user.Email) < PasswordStrength.MinimumScore)
        {
            return Problems.Validation("password", RegisterRequestValidator.WeakPasswordMessage);
        }

        var passwordHash = await hashing.HashAsync(request.Password!, cancellationToken);
        var changed = await database.WriteAsync(async (connection, transaction) =>
        {
            if (!await AccountTokenStore.ConsumeAsync(connection, transaction, hash, now))
            {
                return false; // used or expired since we looked
            }

            await UserStore.SetPasswordHashAsync(connection, transaction, user.Id, passwordHash, User.NewSecurityStamp());
            await AccountTokenStore.EndAllAsync(connection, transaction, user.Id, TokenPurpose.PasswordReset, now);
            return true;
        }, cancellationToken);

        return changed ? TypedResults.NoContent() : Gone();

        static ProblemHttpResult NotFound() => Problems.Problem(StatusCodes.Status404NotFound, "token_not_found",
            "The reset link is not valid.", "Check that the whole link was opened, or ask for a new one.");

        static ProblemHttpResult Gone() => Problems.Problem(StatusCodes.Status410Gone, "token_expired",
            "The reset link has expired or was already used.", "Ask for a new reset link.");
    }

    /// <summary>The form only; the token stays in the page and is sent when the person submits.</summary>
    public static HtmlPage Form(HttpRequest request)
    {
        var zh = Languages.FromRequest(request) == Languages.SimplifiedChinese;
        string T(string en, string cn) => WebUtility.HtmlEncode(zh ? cn : en);
        var title = zh ? "设置新密码" : "Choose a new password";
        var body = $"""
            <h1>{T("Choose a new password", "设置新密码")}</h1>
            <form id="reset" novalidate>
            <label for="password">{T("New password", "新密码")}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required>
            <div class="error" id="password-error"></div>
            <label for="confirmPassword">{T("Repeat it", "再输入一次")}</label>
            <input id="confirmPassword" name="confirmPassword" type="password" autocomplete="new-password" required>
            <div class="error" id="confirmPassword-error"></div>
            <div class="error" id="token-error"></div>
            <button type="submit">{T("Save", "保存")}</button>
            </form>
            <p id="done" hidden>{T("Your password is changed. You can sign in with it now.", "密码已修改，现在可以用新密码登录了。")}</p>
            """;
        const string script = """
            const form = document.getElementById('reset');
            const token = new URLSearchParams(location.search).get('token') || '';
            form.addEventListener('submit', async (event) => {
              event.preventDefault();
              for (const e of document.querySelectorAll('.error')) e.textContent = '';
              const response = await fetch(location.pathname, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ token, password: form.password.value, confirmPassword: form.confirmPassword.value }),
              });
              if (response.status === 204) { form.hidden = true; document.getElementById('done').hidden = false; return; }
              const problem = await response.json();
              const errors = problem.errors || { token: [problem.title] };
              for (const [field, messages] of Object.entries(errors)) {
                const target = document.getElementById(field + '-error') || document.getElementById('token-error');
                target.textContent = messages.join(' ');
              }
            });
            """;
        return new HtmlPage(StatusCodes.Status200OK, zh ? Languages.SimplifiedChinese : Languages.English, title, body, script);
    }
}
