using System.Security.Claims;
using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary><c>POST /me/email</c>, then <c>GET</c>/<c>POST /email/confirm</c>: the signed-in account moves to a new address once the address confirms.</summary>
public static class EmailChangeApi
{
    /// <summary>The mailed link is built from this endpoint name.</summary>
    public const string EndpointName = "ConfirmEmailChange";

    /// <summary>The confirmation page's form posts to this endpoint.</summary>
    public const string FormEndpointName = "ConfirmEmailChangeFromForm";

    public static IEndpointRouteBuilder MapEmailChange(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/me/email", ChangeEmail)
            .WithName("ChangeEmail")
            .WithTags("Accounts")
            .WithSummary("Ask to move the signed-in account to a new email address")
            .WithDescription(
                "Checks the password; then a link and a code go to the new address and a notice to the current one, and nothing "
                + "changes until the new address confirms (POST /email/confirm). A new address that already has an account gets the "
                + "same 202, and its owner a notice instead. At most one request's mails per account per EmailChange:Cooldown; wrong "
                + "passwords count as failed sign-ins of the account.")
            .RequireAuthorization()
            .Accepts<ChangeEmailRequest>("application/json")
            .WithValidation<ChangeEmailRequest>()
            .RequireRateLimiting(RateLimits.ForgotPassword)
            .WithProblem(StatusCodes.Status401Unauthorized, AccountErrors.Unauthorized)
            .WithProblem(StatusCodes.Status403Forbidden, AccountErrors.WrongPassword, AccountErrors.CsrfHeaderRequired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, AccountErrors.TooManyAttempts, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        var group = routes.MapGroup("/email/confirm").WithTags("Accounts");
        group.MapGet("", ConfirmFromLink)
            .WithName(EndpointName)
            .WithSummary("Confirm a new email address from the mailed link")
            .WithDescription(
                "JSON, and the change, for a request whose Accept names application/json. Any other GET (a browser, a mail scanner) "
                + "changes nothing: a small page whose one button posts the token back.")
            .Produces<EmailChangedResponse>()
            .Produces<string>(StatusCodes.Status200OK, "text/html")
            .WithProblem(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed)
            .WithProblem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound)
            .WithProblem(StatusCodes.Status409Conflict, AccountErrors.EmailTaken)
            .WithProblem(StatusCodes.Status410Gone, AccountErrors.TokenExpired)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        group.MapPost("", ConfirmFromForm)
            .WithName(FormEndpointName)
            .WithOrder(1)
            .Accepts<ConfirmEmailRequest>("application/x-www-form-urlencoded")
            .ExcludeFromDescription();

        group.MapPost("", ConfirmFromBody)
            .WithName("ConfirmEmailChangeFromBody")
            .WithSummary("Confirm a new email address with the link's token, or the new address and the code")
            .WithDescription(
                "200 with the account's new address; from then on it signs in with that one only. A wrong code, an unknown address "
                + "and a code used up by Activation:MaxCodeAttempts tries all get the same 400 code_invalid; 409 email_taken when "
                + "another account took the address meanwhile.")
            .Accepts<ConfirmEmailRequest>("application/json")
            .Produces<EmailChangedResponse>()
            .RequireRateLimiting(RateLimits.Codes)
            .WithProblem(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, AccountErrors.CodeInvalid, ProblemCodes.InvalidJson, ProblemCodes.BadRequest)
            .WithProblem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound)
            .WithProblem(StatusCodes.Status409Conflict, AccountErrors.EmailTaken)
            .WithProblem(StatusCodes.Status410Gone, AccountErrors.TokenExpired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    // The validation filter has run: the address is well formed and a password was sent.
    public static async Task<Results<Accepted<ChangeEmailResponse>, ValidationProblem, ProblemHttpResult>> ChangeEmail(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ChangeEmailRequest request,
        ClaimsPrincipal principal,
        HttpResponse response,
        [AsParameters] AccountServices services,
        LoginThrottle throttle,
        IOptions<EmailChangeOptions> options,
        CancellationToken cancellationToken)
    {
        var (user, refusal) = await SignedIn.ReauthenticateAsync(
            principal, request.Password, "The password is wrong.", response, services, throttle, cancellationToken);
        if (user is null)
        {
            return refusal!;
        }

        if (Normalization.Key(request.Email) == Normalization.Key(user.Email))
        {
            return Problems.Validation("email", "This is already the account's address.");
        }

        var now = services.Time.GetUtcNow();
        var queued = await services.Database.WriteAsync(WriteNeeds.KeysAndLocks, async session =>
        {
            // Requests at once take turns on the account's row; the second sees the first one's mails.
            await session.Users.LockAsync(user.Id);
            if (await session.Outbox.LastCreatedForUserAsync(user.Id, EmailChangeEmailComposer.CooldownKinds) is { } last
                && now - last < options.Value.Cooldown)
            {
                return false;
            }

            // The same two mails whether or not the new address has an account: only their recipients know.
            var owner = await session.Users.FindByEmailAsync(request.Email);
            await session.Outbox.AddAsync(
                owner is null
                    ? new NewOutboxMessage(EmailChangeEmailComposer.Kind, [request.Email], user.Id, user.Language)
                    : new NewOutboxMessage(EmailInUseEmailComposer.Kind, [owner.Email], owner.Id, owner.Language),
                now);
            await session.Outbox.AddAsync(new NewOutboxMessage(EmailChangeRequestedEmailComposer.Kind, [user.Email], user.Id, user.Language), now);
            return true;
        }, cancellationToken);

        if (queued)
        {
            services.Outbox.Notify();
        }

        await throttle.ClearAsync(Normalization.Key(user.Username), cancellationToken);
        return TypedResults.Accepted((string?)null, new ChangeEmailResponse("pending_confirmation"));
    }

    public static async Task<IResult> ConfirmFromLink(string? token, HttpContext context, EmailChanger changer, LinkGenerator links)
    {
        var request = context.Request;
        if (LinkConfirmPage.NamesJson(request))
        {
            return JsonResult(await changer.ConfirmAsync(token, context.RequestAborted));
        }

        var (settled, language) = await changer.PeekAsync(token, context.RequestAborted);
        if (settled is { } answer)
        {
            return BrowserResult(answer, null, settled == EmailChangeOutcome.Expired ? language : Languages.FromRequest(request));
        }

        var action = links.GetPathByName(context, FormEndpointName, values: null)
            ?? throw new InvalidOperationException($"No endpoint named {FormEndpointName}.");
        return language == Languages.SimplifiedChinese
            ? LinkConfirmPage.Render(language, "确认新邮箱", "请点击下面的按钮，把这个地址设为账户的邮箱。", "确认邮箱", token!, action)
            : LinkConfirmPage.Render(language, "Confirm your new email address", "Press the button to make this the account's email address.", "Confirm", token!, action);
    }

    public static async Task<IResult> ConfirmFromForm(HttpContext context, EmailChanger changer)
    {
        var token = await LinkConfirmPage.ReadTokenAsync(context.Request);
        var (settled, language) = await changer.PeekAsync(token, context.RequestAborted);
        var (outcome, email) = await changer.ConfirmAsync(token, context.RequestAborted);
        return BrowserResult(outcome, email, settled is null ? language : Languages.FromRequest(context.Request));
    }

    public static async Task<IResult> ConfirmFromBody(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ConfirmEmailRequest request, EmailChanger changer, CancellationToken cancellationToken)
    {
        var (token, email, code) = (request?.Token, Normalization.Clean(request?.Email), request?.Code?.Trim());
        if (!string.IsNullOrEmpty(token) || (string.IsNullOrEmpty(email) && string.IsNullOrEmpty(code)))
        {
            return JsonResult(await changer.ConfirmAsync(token, cancellationToken));
        }

        return AccountCodeCheck.RequestErrors(email, code) is { } errors
            ? Problems.Validation(errors)
            : JsonResult(await changer.ConfirmWithCodeAsync(email!, code!, cancellationToken));
    }

    private static IResult JsonResult((EmailChangeOutcome Outcome, string? Email) result) => result.Outcome switch
    {
        EmailChangeOutcome.Changed => TypedResults.Ok(new EmailChangedResponse("email_changed", result.Email!)),
        EmailChangeOutcome.Missing => Problems.Validation("token", "Token is required (or email and code)."),
        EmailChangeOutcome.Malformed => Problems.Validation("token", $"Token must be the {AccountTokens.TextLength}-character code from the link."),
        EmailChangeOutcome.CodeInvalid => AccountCodeCheck.Invalid(),
        EmailChangeOutcome.Taken => Problems.Problem(StatusCodes.Status409Conflict, AccountErrors.EmailTaken,
            "Another account has this address now.", "Ask for the change again with another address."),
        EmailChangeOutcome.Expired => Problems.Problem(StatusCodes.Status410Gone, AccountErrors.TokenExpired,
            "The link has expired or was replaced.", "Ask for the change again."),
        _ => Problems.Problem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound,
            "The link is not valid.", "Check that the whole link was opened."),
    };

    private static HtmlPage BrowserResult(EmailChangeOutcome outcome, string? email, string language)
    {
        var chinese = language == Languages.SimplifiedChinese;
        var (status, title, message) = (outcome, chinese) switch
        {
            (EmailChangeOutcome.Changed, false) => (200, "Email address changed", $"The account's email address is now {email}. Sign in with it from now on."),
            (EmailChangeOutcome.Changed, true) => (200, "邮箱已更改", $"账户的邮箱现在是 {email}，以后请用它登录。"),
            (EmailChangeOutcome.Taken, false) => (409, "Address taken", "Another account has this address now. Ask for the change again with another address."),
            (EmailChangeOutcome.Taken, true) => (409, "邮箱已被占用", "另一个账户已经在使用这个地址，请换一个地址重新申请。"),
            (EmailChangeOutcome.Expired, false) => (410, "Link expired", "This link has expired or was replaced by a newer one. Ask for the change again."),
            (EmailChangeOutcome.Expired, true) => (410, "链接已过期", "这个链接已经过期或已被新的链接取代，请重新申请。"),
            (_, false) => (404, "Link not valid", "This link is not valid. Check that you opened the whole link."),
            (_, true) => (404, "链接无效", "这个链接无效，请确认打开的是完整的链接。"),
        };
        return HtmlPage.Message(status, language, title, message);
    }
}
