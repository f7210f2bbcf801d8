using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Accounts.Api.Accounts;

/// <summary>An email address, for the endpoints that mail a link to it.</summary>
public sealed record EmailRequest : INormalizable<EmailRequest>
{
    /// <summary>The account's email address.</summary>
    /// <example>alice@example.com</example>
    public string? Email { get; init; }

    public EmailRequest Normalize() => this with { Email = Normalization.Clean(Email) };
}

public sealed class EmailRequestValidator : AbstractValidator<EmailRequest>
{
    public EmailRequestValidator() =>
        RuleFor(r => r.Email)
            .Cascade(CascadeMode.Stop)
            .NotEmpty().WithMessage("Email is required.")
            .Must(EmailAddresses.IsValid).WithMessage("Email is not a valid email address.");
}

/// <summary>The answer of the endpoints that never tell whether an address has an account.</summary>
/// <param name="Status">Always <c>accepted</c>.</param>
public sealed record AcceptedResponse(string Status)
{
    public static readonly AcceptedResponse Instance = new("accepted");
}

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
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return routes;
    }

    // The validation filter has run: the address is well formed.
    public static async Task<Accepted<AcceptedResponse>> Resend(
        EmailRequest? request,
        Database database,
        OutboxSignal outbox,
        IOptions<ActivationOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var now = time.GetUtcNow();
        var outboxId = await database.WriteAsync(
            async (connection, transaction) =>
                await UserStore.FindByEmailAsync(connection, transaction, request.Email!) is { Status: AccountStatus.PendingActivation } user
                    ? await AccountMail.QueueAsync(connection, transaction, user, AccountEmailKinds.Activation,
                        AccountEmailKinds.ActivationCooldownKinds, options.Value.ResendCooldown, now)
                    : null,
            cancellationToken);

        if (outboxId is { } id)
        {
            outbox.Notify(id);
        }

        return TypedResults.Accepted((string?)null, AcceptedResponse.Instance);
    }
}
