using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Accounts.Api.Infrastructure;

/// <summary>The Swashbuckle filters behind <see cref="OpenApi"/>: what the generator cannot know from the types alone.</summary>
internal static class OpenApiFilters
{
    private const string ProblemJson = "application/problem+json";
    private const string Problem = "Problem";
    private const string ValidationProblem = "ValidationProblem";

    /// <summary>A string member with <see cref="AllowedValuesAttribute"/> is an enum of those values (a <c>status</c>, say).</summary>
    internal sealed class AllowedValuesAsEnum : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is OpenApiSchema concrete && context.MemberInfo?.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed)
            {
                concrete.Enum = [.. allowed.Values.Select(v => (JsonNode)JsonValue.Create(v?.ToString() ?? ""))];
            }
        }
    }

    /// <summary>
    /// A member its type's constructor sets (a positional record, as every response is) is always
    /// in the JSON, null or not: required. Request members are required by their nullability.
    /// </summary>
    internal sealed class ConstructorMembersRequired : ISchemaFilter
    {
        public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
        {
            if (schema is not OpenApiSchema { Properties.Count: > 0 } concrete || context.MemberInfo is not null || context.ParameterInfo is not null)
            {
                return;
            }

            var parameters = context.Type.GetConstructors()
                .SelectMany(c => c.GetParameters())
                .Select(p => p.Name)
                .OfType<string>()
                .ToHashSet(StringComparer.OrdinalIgnoreCase);
            concrete.Required ??= new SortedSet<string>(StringComparer.Ordinal);
            foreach (var name in concrete.Properties.Keys.Where(parameters.Contains))
            {
                concrete.Required.Add(name);
            }
        }
    }

    /// <summary>
    /// The bearer scheme or the session cookie, either one, on the operations that need
    /// authorization, and an explicit "none" on every other (<c>security: []</c>), so no generator
    /// guesses. A POST that takes the cookie (those, and <c>/token/refresh</c>) lists the optional
    /// <c>X-CSRF</c> header cookie mode needs.
    /// </summary>
    internal sealed class Security : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
            var needsToken = metadata.OfType<IAuthorizeData>().Any() && !metadata.OfType<IAllowAnonymous>().Any();
            operation.Security = needsToken
                ?
                [
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(OpenApi.BearerScheme, context.Document)] = [] },
                    new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(OpenApi.CookieScheme, context.Document)] = [] },
                ]
                : [];
            var isPost = string.Equals(context.ApiDescription.HttpMethod, "POST", StringComparison.OrdinalIgnoreCase);
            if (isPost && (needsToken || context.ApiDescription.RelativePath == Accounts.SessionCookies.RefreshPath.TrimStart('/')))
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = Accounts.SessionCookies.CsrfHeader,
                    In = ParameterLocation.Header,
                    Required = false,
                    Description = "`1`, required when the request is signed in by the session cookie (cookie mode); not needed with a bearer token.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [System.Text.Json.Nodes.JsonValue.Create("1")] },
                });
            }
        }
    }

    /// <summary>
    /// A request body is required when the handler's body parameter cannot be null. The handlers
    /// take their bodies with <c>EmptyBodyBehavior.Allow</c> (so an empty body gets our 400 naming
    /// the fields, not the framework's), which the compile-time request delegates describe as an
    /// optional body; what the contract promises is the parameter's nullability.
    /// </summary>
    internal sealed class RequiredBodies : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            var handler = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<MethodInfo>().FirstOrDefault();
            var body = handler?.GetParameters().FirstOrDefault(p => p.GetCustomAttribute<Microsoft.AspNetCore.Mvc.FromBodyAttribute>() is not null);
            if (operation.RequestBody is OpenApiRequestBody requestBody && body is not null)
            {
                requestBody.Required = new NullabilityInfoContext().Create(body).WriteState == NullabilityState.NotNull;
            }
        }
    }

    /// <summary>
    /// Every <c>application/problem+json</c> response refers to the one <c>Problem</c> schema (a
    /// 400 to <c>ValidationProblem</c>, which adds <c>errors</c>), narrowed to the codes the
    /// endpoint declared (<see cref="ProblemCodesMetadata"/>) and with an example of one; a 429
    /// or 503 says when to try again (<c>Retry-After</c>).
    /// </summary>
    internal sealed class ProblemResponses : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            if (operation.Responses is null)
            {
                return;
            }

            var declared = context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ProblemCodesMetadata>()
                .GroupBy(m => m.StatusCode)
                .ToDictionary(g => g.Key, g => g.SelectMany(m => m.Codes).Distinct().ToList());
            foreach (var (key, value) in operation.Responses)
            {
                if (value is not OpenApiResponse response || !int.TryParse(key, out var status)
                    || response.Content is null || !response.Content.TryGetValue(ProblemJson, out var media))
                {
                    continue;
                }

                var codes = declared.TryGetValue(status, out var listed) ? listed : [ProblemCodes.ForStatus(status)];
                var baseSchema = status == StatusCodes.Status400BadRequest ? ValidationProblem : Problem;
                media.Schema = new OpenApiSchema
                {
                    AllOf =
                    [
                        new OpenApiSchemaReference(baseSchema, context.Document),
                        new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Properties = new Dictionary<string, IOpenApiSchema>
                            {
                                ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. codes.Select(c => (JsonNode)JsonValue.Create(c))] },
                            },
                        },
                    ],
                };
                media.Example = Example(status, codes[0], response.Description);
                response.Description = Describe(status, codes);
                if (status is StatusCodes.Status429TooManyRequests or StatusCodes.Status503ServiceUnavailable)
                {
                    response.Headers ??= new Dictionary<string, IOpenApiHeader>();
                    response.Headers["Retry-After"] = new OpenApiHeader
                    {
                        Description = "How many seconds to wait before trying again.",
                        Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Minimum = "1" },
                    };
                }
            }
        }

        private static string Describe(int status, List<string> codes) =>
            $"{ReasonPhrases.GetReasonPhrase(status)}: `code` {string.Join(" or ", codes.Select(c => $"`{c}`"))}.";

        private static JsonObject Example(int status, string code, string? title)
        {
            var example = new JsonObject
            {
                ["type"] = $"https://tools.ietf.org/html/rfc9110#section-15.{(status >= 500 ? 6 : 5)}",
                ["title"] = title ?? ReasonPhrases.GetReasonPhrase(status),
                ["status"] = status,
                ["code"] = code,
                ["traceId"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            };
            if (status == StatusCodes.Status400BadRequest)
            {
                example["errors"] = new JsonObject { ["email"] = new JsonArray("Email is not a valid email address.") };
            }

            return example;
        }
    }

    /// <summary>The document's servers (<c>PublicBaseUrl</c>), tags with their descriptions, and the problem schemas.</summary>
    /// <summary>The examples endpoints give for their non-problem answers (<see cref="OpenApiExtensions.WithResponseExample"/>).</summary>
    internal sealed class ResponseExamples : IOperationFilter
    {
        public void Apply(OpenApiOperation operation, OperationFilterContext context)
        {
            foreach (var example in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<ResponseExampleMetadata>())
            {
                if (operation.Responses?.TryGetValue(example.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture), out var response) == true
                    && response.Content is not null)
                {
                    foreach (var media in response.Content.Values)
                    {
                        media.Example = System.Text.Json.JsonSerializer.SerializeToNode(example.Example, System.Text.Json.JsonSerializerOptions.Web);
                    }
                }
            }
        }
    }

    internal sealed class DocumentDetails(IOptions<PublicUrlOptions> publicUrl, IOptions<ApiDocumentationOptions> documentation) : IDocumentFilter
    {
        public void Apply(OpenApiDocument document, DocumentFilterContext context)
        {
            var settings = documentation.Value;
            document.Servers = [new OpenApiServer { Url = publicUrl.Value.BaseUri.AbsoluteUri.TrimEnd('/'), Description = "PublicBaseUrl" }];
            document.Tags = new HashSet<OpenApiTag>(
                settings.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));

            document.Components ??= new OpenApiComponents();
            document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
            var schemas = document.Components.Schemas;
            schemas.Remove("ProblemDetails");
            schemas.Remove("HttpValidationProblemDetails");
            schemas[Problem] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "An RFC 9457 problem. Switch on `code`, which is stable; `title` and `detail` are for people.",
                Required = new SortedSet<string>(StringComparer.Ordinal) { "status", "title", "code", "traceId" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A URI that names the kind of problem." },
                    ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short summary, for people." },
                    ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status." },
                    ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What to do about it, for people." },
                    ["instance"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["code"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.String,
                        Description = "The stable, machine-readable kind of problem.",
                        Enum = [.. settings.ProblemCodes.Select(c => (JsonNode)JsonValue.Create(c))],
                    },
                    ["traceId"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The request's trace id, for the logs." },
                },
            };
            schemas[ValidationProblem] = new OpenApiSchema
            {
                Description = "A 400: the request was refused before anything changed; `errors` names each failing field.",
                AllOf =
                [
                    new OpenApiSchemaReference(Problem, document),
                    new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new SortedSet<string>(StringComparer.Ordinal) { "errors" },
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["errors"] = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Description = "Each failing field, by its camelCase request name (`$` for the body as a whole), with its messages.",
                                AdditionalProperties = new OpenApiSchema
                                {
                                    Type = JsonSchemaType.Array,
                                    Items = new OpenApiSchema { Type = JsonSchemaType.String },
                                },
                            },
                        },
                    },
                ],
            };
        }
    }
}
