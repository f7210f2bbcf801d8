using Microsoft.AspNetCore.Authorization;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Accounts.Api.Infrastructure;

/// <summary>Swagger UI at <c>/swagger</c> and the document at <c>/swagger/v1/swagger.json</c>; on unless <c>Swagger:Enabled</c> is false.</summary>
public static class OpenApi
{
    private const string BearerScheme = "Bearer";

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "Accounts API",
                Version = "v1",
                Description = "Register accounts and activate them from an emailed link. Every error is "
                    + "application/problem+json (RFC 9457) with a stable `code`.",
            });
            options.AddSecurityDefinition(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The accessToken from POST /login.",
            });
            options.OperationFilter<BearerRequirementFilter>();
            var xml = Path.Combine(AppContext.BaseDirectory, $"{typeof(OpenApi).Assembly.GetName().Name}.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
        });
        return services;
    }

    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        if (app.Configuration.GetValue("Swagger:Enabled", defaultValue: true))
        {
            app.UseSwagger();
            app.UseSwaggerUI(options => options.DocumentTitle = "Accounts API");
        }

        return app;
    }

    /// <summary>Marks the endpoints that require authorization as taking a bearer token, so Swagger UI sends it.</summary>
    private sealed class BearerRequirementFilter : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>().Any())
            {
                return;
            }

            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
        }
    }
}
