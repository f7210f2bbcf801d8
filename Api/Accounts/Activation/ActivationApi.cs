using System.ComponentModel.DataAnnotations;
using System.Net;
using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>A token an SPA received in its own activation page's URL, or the address and the code a person typed.</summary>
public sealed record ActivateRequest
{
    /// <summary>The 43-character token from the link. Send it, or <c>email</c> and <c>code</c>.</summary>
    /// <example>q5V2mXk0c7a8J1yq3sWmP4oT9bE6uR2nL0dF8hG5kZw</example>
    public string? Token { get; init; }

    /// <summary>With <c>code</c>: the address the activation mail went to.</summary>
    /// <example>alice@example.com</example>
    public string? Email { get; init; }

    /// <summary>With <c>email</c>: the 6-digit code from the activation mail.</summary>
    /// <example>042917</example>
    public string? Code { get; init; }
}

/// <summary>What following the link did.</summary>
/// <param name="Status"><c>activated</c>, or <c>already_active</c> when the account was active before this request.</param>
public sealed record ActivationResponse([property: AllowedValues("activated", "already_active")] string Status);

public enum ActivationOutcome
{
    Activated,
    AlreadyActive,
    Missing,
    Malformed,
    NotFound,
    Expired,
    CodeInvalid,
}

/// <summary><c>GET /activate?token=…</c> (the mailed link) and <c>POST /activate</c> (for an SPA).</summary>
public static class ActivationApi
{
    /// <summary>The mailed link is built from this endpoint name, never by string concatenation.</summary>
    public const string EndpointName = "ActivateAccount";

    /// <summary>The confirmation page's form posts to this endpoint.</summary>
    public const string FormEndpointName = "ActivateAccountFromForm";

    public static IEndpointRouteBuilder MapActivation(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/activate").WithTags("Accounts");

        group.MapGet("", ActivateFromLink)
            .WithName(EndpointName)
            .WithSummary("Activate an account from the mailed link")
            .WithDescription(
                "JSON, and the activation, for a request whose Accept names application/json. Any other GET (a browser, a mail "
                + "scanner, no Accept) changes nothing: a link that can activate shows a small page, in the account's language, whose "
                + "one Activate button posts the token back (a plain form, no script); a link that cannot is answered as the form post "
                + "would be: 303 to Activation:RedirectUrl?status=already_active|expired|invalid, or a small HTML page. With "
                + "Activation:ConfirmInBrowser false, a browser's GET activates at once instead.")
            .Produces<ActivationResponse>()
            .Produces(StatusCodes.Status303SeeOther)
            .Produces<string>(StatusCodes.Status200OK, "text/html")
            .WithProblem(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed)
            .WithProblem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound)
            .WithProblem(StatusCodes.Status410Gone, AccountErrors.TokenExpired)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        // The confirmation page's form: routed here by its Content-Type, answered for a browser. Any
        // other request, one with no or a malformed Content-Type too, goes to the JSON endpoint (order 0).
        group.MapPost("", ActivateFromForm)
            .WithName(FormEndpointName)
            .WithOrder(1)
            .Accepts<ActivateRequest>("application/x-www-form-urlencoded")
            .ExcludeFromDescription();

        group.MapPost("", ActivateFromBody)
            .WithName("ActivateAccountFromBody")
            .WithSummary("Activate an account with a token an SPA received")
            .WithDescription(
                "For an SPA whose own page the mailed link opens (Activation:LinkUrl): it posts the token from its URL here. The "
                + "confirmation page GET /activate shows posts its form here too (application/x-www-form-urlencoded, token=…), and is "
                + "answered as a browser: 303 to Activation:RedirectUrl?status=…, or the result page.")
            .Accepts<ActivateRequest>("application/json")
            .Produces<ActivationResponse>()
            .WithProblem(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, AccountErrors.CodeInvalid, ProblemCodes.InvalidJson, ProblemCodes.BadRequest)
            .RequireRateLimiting(RateLimits.Codes)
            .WithProblem(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound)
            .WithProblem(StatusCodes.Status410Gone, AccountErrors.TokenExpired)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);

        return routes;
    }

    public static async Task<IResult> ActivateFromLink(
        string? token, HttpContext context, AccountActivator activator, LinkGenerator links, IOptions<ActivationOptions> options)
    {
        var (request, settings, cancellationToken) = (context.Request, options.Value, context.RequestAborted);
        if (!settings.ConfirmInBrowser || LinkConfirmPage.NamesJson(request))
        {
            var outcome = await activator.ActivateAsync(token, cancellationToken);
            return !LinkConfirmPage.NamesJson(request) && PrefersHtml(request)
                ? BrowserResult(outcome, settings, Languages.FromRequest(request))
                : JsonResult(outcome);
        }

        // A browser or a mail scanner: nothing changes until a person presses the button.
        var (settled, language) = await activator.PeekAsync(token, cancellationToken);
        if (settled is { } answer)
        {
            return BrowserResult(answer, settings, Languages.FromRequest(request));
        }

        var action = links.GetPathByName(context, FormEndpointName, values: null)
            ?? throw new InvalidOperationException($"No endpoint named {FormEndpointName}.");
        return language == Languages.SimplifiedChinese
            ? LinkConfirmPage.Render(language, "激活您的账户", "请点击下面的按钮激活账户。", "激活账户", token!, action)
            : LinkConfirmPage.Render(language, "Activate your account", "Press the button to activate your account.", "Activate", token!, action);
    }

    public static async Task<IResult> ActivateFromForm(HttpContext context, AccountActivator activator, IOptions<ActivationOptions> options)
    {
        var token = await LinkConfirmPage.ReadTokenAsync(context.Request);

        // The result speaks the account's language, as its page did, when the token names one.
        var (settled, language) = await activator.PeekAsync(token, context.RequestAborted);
        var outcome = await activator.ActivateAsync(token, context.RequestAborted);
        return BrowserResult(outcome, options.Value, settled is null ? language : Languages.FromRequest(context.Request));
    }

    // The contract requires the body; one left out is bound as null (EmptyBodyBehavior.Allow) and
    // answered as a missing token, like every other endpoint's empty body, not by the framework.
    public static async Task<IResult> ActivateFromBody(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ActivateRequest request, AccountActivator activator, CancellationToken cancellationToken)
    {
        var (token, email, code) = (request?.Token, Normalization.Clean(request?.Email), request?.Code?.Trim());
        if (!string.IsNullOrEmpty(token) || (string.IsNullOrEmpty(email) && string.IsNullOrEmpty(code)))
        {
            return JsonResult(await activator.ActivateAsync(token, cancellationToken));
        }

        return AccountCodeCheck.RequestErrors(email, code) is { } errors
            ? Problems.Validation(errors)
            : JsonResult(await activator.ActivateWithCodeAsync(email!, code!, cancellationToken));
    }

    private static IResult JsonResult(ActivationOutcome outcome) => outcome switch
    {
        ActivationOutcome.Activated => TypedResults.Ok(new ActivationResponse("activated")),
        ActivationOutcome.AlreadyActive => TypedResults.Ok(new ActivationResponse("already_active")),
        ActivationOutcome.Missing => Problems.Validation("token", "Token is required."),
        ActivationOutcome.Malformed => Problems.Validation(
            "token", $"Token must be the {AccountTokens.TextLength}-character code from the activation link."),
        ActivationOutcome.CodeInvalid => AccountCodeCheck.Invalid(),
        ActivationOutcome.Expired => Problems.Problem(StatusCodes.Status410Gone, AccountErrors.TokenExpired,
            "The activation link has expired.", "Ask for a new activation link."),
        _ => Problems.Problem(StatusCodes.Status404NotFound, AccountErrors.TokenNotFound,
            "The activation link is not valid.", "Check that the whole link was opened, or ask for a new one."),
    };

    /// <summary>Redirects to the SPA when one is configured (the target is never taken from the request), else a small page.</summary>
    private static IResult BrowserResult(ActivationOutcome outcome, ActivationOptions options, string language)
    {
        var status = outcome switch
        {
            ActivationOutcome.Activated => "activated",
            ActivationOutcome.AlreadyActive => "already_active",
            ActivationOutcome.Expired => "expired",
            _ => "invalid",
        };

        if (options.RedirectUrl is { } redirect)
        {
            return new SeeOtherResult(QueryHelpers.AddQueryString(redirect, "status", status));
        }

        var chinese = language == Languages.SimplifiedChinese;
        var (code, title, message) = (outcome, chinese) switch
        {
            (ActivationOutcome.Activated, false) => (200, "Account activated", "Your account is active. You can sign in now."),
            (ActivationOutcome.Activated, true) => (200, "账户已激活", "您的账户已经激活，现在可以登录了。"),
            (ActivationOutcome.AlreadyActive, false) => (200, "Already active", "This account was already activated. You can sign in."),
            (ActivationOutcome.AlreadyActive, true) => (200, "账户早已激活", "这个账户之前已经激活过了，可以直接登录。"),
            (ActivationOutcome.Expired, false) => (410, "Link expired", "This activation link has expired. Ask for a new one."),
            (ActivationOutcome.Expired, true) => (410, "链接已过期", "这个激活链接已经过期，请重新获取激活邮件。"),
            (ActivationOutcome.NotFound, false) => (404, "Link not valid", "This activation link is not valid. Check that you opened the whole link."),
            (ActivationOutcome.NotFound, true) => (404, "链接无效", "这个激活链接无效，请确认打开的是完整的链接。"),
            (_, false) => (400, "Link not valid", "This activation link is incomplete. Check that you opened the whole link."),
            (_, true) => (400, "链接无效", "这个激活链接不完整，请确认打开的是完整的链接。"),
        };
        return HtmlPage.Message(code, language, title, message);
    }

    /// <summary>True when the client ranks HTML above JSON, as a browser following a link does.</summary>
    internal static bool PrefersHtml(HttpRequest request)
    {
        var accept = request.GetTypedHeaders().Accept;
        double Quality(params string[] types) => accept
            .Where(a => types.Any(t => a.MediaType.Equals(t, StringComparison.OrdinalIgnoreCase)))
            .Select(a => a.Quality ?? 1)
            .DefaultIfEmpty(0)
            .Max();

        var html = Quality("text/html", "application/xhtml+xml");
        return html > 0 && html > Quality("application/json", "application/problem+json");
    }

    private sealed class SeeOtherResult(string location) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status303SeeOther;
            httpContext.Response.Headers.Location = location;
            httpContext.Response.Headers.CacheControl = "no-store";
            return Task.CompletedTask;
        }
    }
}
