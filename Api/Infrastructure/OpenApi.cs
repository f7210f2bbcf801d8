using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.Swagger;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Accounts.Api.Infrastructure;

/// <summary>
/// Swagger UI at <c>/swagger</c> and the OpenAPI document at <c>/swagger/v1/swagger.json</c>, on
/// unless <c>Swagger:Enabled</c> is false. The document is the contract front ends generate their
/// client from (the repository keeps it as <c>openapi.json</c>, and a test fails when the served
/// one differs): members the API always sends or needs are required and not nullable, fixed
/// values are enums, every problem response says which <c>code</c>s it carries
/// (<see cref="OpenApiExtensions.WithProblem"/>), and every operation states its security.
/// </summary>
public static class OpenApi
{
    public const string DocumentName = "v1";
    public const string DocumentPath = "/swagger/v1/swagger.json";
    internal const string BearerScheme = "Bearer";
    internal const string CookieScheme = "SessionCookie";

    public static IServiceCollection AddApiDocumentation(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(options =>
        {
            options.SwaggerDoc(DocumentName, new OpenApiInfo
            {
                Title = "Accounts API",
                Version = "v1",
                Description = "Register accounts, activate them from an emailed link, sign in and manage them. Every error is "
                    + "`application/problem+json` (RFC 9457) with a stable `code` to switch on; a 400 adds `errors`, keyed by "
                    + "the camelCase request field.",
                Contact = new OpenApiContact { Name = "Accounts API maintainers" },
                License = new OpenApiLicense { Name = "MIT", Url = new Uri("https://opensource.org/license/mit") },
            });
            options.SupportNonNullableReferenceTypes();
            options.NonNullableReferenceTypesAsRequired();
            options.AddSecurityDefinition(BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The accessToken from POST /login or POST /token/refresh.",
            });
            options.AddSecurityDefinition(CookieScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Cookie,
                Name = Accounts.SessionCookies.AccessCookie,
                Description = "Cookie mode: the HttpOnly cookie POST /login?useCookies=true sets (the browser sends it). "
                    + "A POST signed in by it must also send the header X-CSRF: 1.",
            });
            options.SchemaFilter<OpenApiFilters.AllowedValuesAsEnum>();
            options.SchemaFilter<OpenApiFilters.ConstructorMembersRequired>();
            options.OperationFilter<OpenApiFilters.Security>();
            options.OperationFilter<OpenApiFilters.RequiredBodies>();
            options.OperationFilter<OpenApiFilters.ProblemResponses>();
            options.OperationFilter<OpenApiFilters.ResponseExamples>();
            options.DocumentFilter<OpenApiFilters.DocumentDetails>();
            var xml = Path.Combine(AppContext.BaseDirectory, $"{typeof(OpenApi).Assembly.GetName().Name}.xml");
            if (File.Exists(xml))
            {
                options.IncludeXmlComments(xml);
            }
        });
        return services;
    }

    /// <summary>Adds what a feature documents: the description of its tags and the problem codes it answers with.</summary>
    public static IServiceCollection AddApiDocumentationOf(
        this IServiceCollection services, IReadOnlyDictionary<string, string> tags, IEnumerable<string> problemCodes)
    {
        var codes = problemCodes.ToList();
        services.Configure<ApiDocumentationOptions>(options =>
        {
            foreach (var (tag, description) in tags)
            {
                options.Tags[tag] = description;
            }

            options.ProblemCodes.UnionWith(codes);
        });
        return services;
    }

    public static WebApplication UseApiDocumentation(this WebApplication app)
    {
        if (app.Configuration.GetValue("Swagger:Enabled", defaultValue: true))
        {
            var publicUrl = app.Services.GetRequiredService<IOptions<PublicUrlOptions>>().Value.BaseUri;
            app.UseSwagger(options => options.PreSerializeFilters.Add((document, request) =>
            {
                // Swagger UI sends "Try it out" to the first server. Reached somewhere other than
                // PublicBaseUrl (a developer's localhost, a test), that is where it was loaded from.
                if (!string.Equals(request.Scheme, publicUrl.Scheme, StringComparison.OrdinalIgnoreCase)
                    || !string.Equals(request.Host.Value, publicUrl.Authority, StringComparison.OrdinalIgnoreCase))
                {
                    var here = request.PathBase.HasValue ? request.PathBase.Value! : "/";
                    document.Servers ??= [];
                    document.Servers.Insert(0, new OpenApiServer { Url = here, Description = "This server: the origin this document was fetched from" });
                }
            }));
            app.UseSwaggerUI(options =>
            {
                options.DocumentTitle = "Accounts API";
                options.EnablePersistAuthorization();
            });
        }

        return app;
    }

    /// <summary>
    /// <c>openapi.json</c> at the root of the repository this build comes from (the folder that
    /// holds <c>Accounts.slnx</c>, above the build output), where the contract is committed.
    /// </summary>
    public static string CommittedFile()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Accounts.slnx")))
            {
                return Path.Combine(folder.FullName, "openapi.json");
            }
        }

        throw new InvalidOperationException("The openapi command writes into the repository; run it from a build inside one (dotnet run --project Api -- openapi).");
    }

    /// <summary>
    /// The OpenAPI document of an app that is built, with its endpoints mapped, but not started
    /// (the <c>openapi</c> command): the same JSON the app serves.
    /// </summary>
    public static string Render(WebApplication app)
    {
        // What the host does at start: the endpoints mapped on the app become the ones ApiExplorer sees.
        app.UseRouting();
        app.UseEndpoints(_ => { });
        var document = app.Services.GetRequiredService<ISwaggerProvider>().GetSwagger(DocumentName);
        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        document.SerializeAsV3(new OpenApiJsonWriter(text));
        return text.ToString().ReplaceLineEndings("\n") + "\n";
    }
}

/// <summary>What the features add to the document: tag descriptions and the problem codes of their answers.</summary>
public sealed class ApiDocumentationOptions
{
    public Dictionary<string, string> Tags { get; } = new(StringComparer.Ordinal)
    {
        ["Health"] = "Liveness and readiness for load balancers and orchestrators.",
    };

    public SortedSet<string> ProblemCodes { get; } = new(Infrastructure.ProblemCodes.DeclaredIn(typeof(Infrastructure.ProblemCodes)), StringComparer.Ordinal);
}

/// <summary>An example of an endpoint's answer with this status, for its OpenAPI description.</summary>
public sealed record ResponseExampleMetadata(int StatusCode, object Example);

/// <summary>The <c>code</c>s a problem response of an endpoint carries, for its OpenAPI description.</summary>
public sealed record ProblemCodesMetadata(int StatusCode, IReadOnlyList<string> Codes);

public static class OpenApiExtensions
{
    /// <summary>Gives the document an example of the answer with <paramref name="statusCode"/> (serialized as the API does).</summary>
    public static TBuilder WithResponseExample<TBuilder>(this TBuilder builder, int statusCode, object example)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new ResponseExampleMetadata(statusCode, example));

    /// <summary>
    /// Declares a problem response with the codes it carries (none: the status's default code,
    /// <see cref="ProblemCodes.ForStatus"/>). The document then lists exactly those codes as the
    /// response's <c>code</c> enum, with an example of the first.
    /// </summary>
    public static TBuilder WithProblem<TBuilder>(this TBuilder builder, int statusCode, params string[] codes)
        where TBuilder : IEndpointConventionBuilder
    {
        var type = statusCode == StatusCodes.Status400BadRequest ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails);
        return builder.WithMetadata(
            new ProducesResponseTypeMetadata(statusCode, type, ["application/problem+json"]),
            new ProblemCodesMetadata(statusCode, codes.Length > 0 ? codes : [ProblemCodes.ForStatus(statusCode)]));
    }
}
