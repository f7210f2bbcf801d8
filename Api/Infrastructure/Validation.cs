using FluentValidation;
using Microsoft.AspNetCore.Http.Metadata;

namespace Accounts.Api.Infrastructure;

/// <summary>A request that has one canonical form (trimmed, normalized) in which it is validated and used.</summary>
public interface INormalizable<out T>
{
    T Normalize();
}

public static class ValidationExtensions
{
    /// <summary>
    /// Validates the endpoint's <typeparamref name="T"/> argument with its FluentValidation
    /// validator before the handler runs, answering a 400 validation problem with every failing
    /// field; the 400 is added to the endpoint's OpenAPI metadata.
    /// </summary>
    public static RouteHandlerBuilder WithValidation<T>(this RouteHandlerBuilder builder)
        where T : class, new()
    {
        return builder
            .AddEndpointFilterFactory((factory, next) =>
            {
                var index = Array.FindIndex(factory.MethodInfo.GetParameters(), p => p.ParameterType == typeof(T));
                if (index < 0)
                {
                    throw new InvalidOperationException($"WithValidation<{typeof(T).Name}> is on an endpoint without a {typeof(T).Name} parameter.");
                }

                return async context =>
                {
                    // No body at all is validated as an empty one: every required field is reported.
                    var argument = context.GetArgument<T?>(index) ?? new T();
                    if (argument is INormalizable<T> normalizable)
                    {
                        argument = normalizable.Normalize();
                    }

                    context.Arguments[index] = argument;
                    var validator = context.HttpContext.RequestServices.GetRequiredService<IValidator<T>>();
                    var result = await validator.ValidateAsync(argument, context.HttpContext.RequestAborted);
                    return result.IsValid ? await next(context) : Problems.Validation(result);
                };
            })
            .WithProblem(StatusCodes.Status400BadRequest, ProblemCodes.ValidationFailed, ProblemCodes.InvalidJson, ProblemCodes.BadRequest);
    }
}
