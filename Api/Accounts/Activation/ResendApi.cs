using Accounts.Api.Infrastructure;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary><c>POST /activation/resend</c>.</summary>
public static class ResendApi
{
    public static IEndpointRouteBuilder MapResend(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/activation/resend", Resend)
            .WithName("ResendActivation")
            .WithTags("Accounts")
            .WithSummary("Mail a fresh activation link")
            .WithDescription(
                "Always 202, whether or not the address has an account. A pending account gets a new link, which ends "
                + "its earlier links; at most one mail per address per Activation:ResendCooldown.")
            .Accepts<EmailRequest>("application/json")
            .WithValidation<EmailRequest>()
            .RequireRateLimiting(RateLimits.Resend)
            .WithProblem(StatusCodes.Status413PayloadTooLarge)
            .WithProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithProblem(StatusCodes.Status429TooManyRequests, ProblemCodes.RateLimited)
            .WithProblem(StatusCodes.Status503ServiceUnavailable, ProblemCodes.StorageUnavailable);
        return routes;
    }

    // The validation filter has run: the address is well formed.
    public static async Task<Accepted<AcceptedResponse>> Resend(
        [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] EmailRequest request,
        [AsParameters] AccountServices services,
        IOptions<ActivationOptions> options,
        CancellationToken cancellationToken)
    {
        await AccountMail.QueueForAddressAsync(
            services,
            request.Email,
            user => user.Status == AccountStatus.PendingActivation,
            ActivationEmailComposer.Kind,
            ActivationEmailComposer.CooldownKinds,
            options.Value.ResendCooldown,
            cancellationToken);
        return TypedResults.Accepted((string?)null, AcceptedResponse.Instance);
    }
}
