using Accounts.Api.Accounts;
using Accounts.Api.Demo;
using Accounts.Api.Email;
using Accounts.Api.Housekeeping;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;

// `outbox list|retry|purge …` runs against the configured database instead of starting the server;
// `openapi` writes the OpenAPI document to the repository's openapi.json.
var outboxCommand = OutboxCommandLine.Parse(args);
var openApiFile = args is ["openapi"] ? OpenApi.CommittedFile() : null;
var builder = WebApplication.CreateBuilder(outboxCommand is null && openApiFile is null ? args : []);

builder.AddApiLogging();
builder.AddTelemetry();
builder.AddRequestLimits();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddPublicUrl();
builder.Services.AddReverseProxySupport(builder.Configuration);
builder.Services.AddApiProblemDetails();
builder.Services.AddApiCors();
builder.Services.AddApiDocumentation();
builder.Services.AddApiHealthChecks();
builder.Services.AddApiRateLimiting();
builder.Services.AddApiDataProtection(builder.Configuration, builder.Environment);
builder.Services.AddStorage();
builder.Services.AddEmailDelivery();
builder.Services.AddAccounts();
builder.Services.AddHousekeeping();

var app = builder.Build();

if (outboxCommand is not null)
{
    return await outboxCommand.RunAsync(app.Services, Console.Out);
}

app.UseReverseProxySupport();
app.UseHttpLogging();
app.UseSecurityHeaders();
app.UseApiProblemDetails();
app.UseApiDocumentation();
app.UseDemo();
app.UseApiCors();
app.UseRateLimiter();
app.UseAuthentication();
app.UseSessionCookieCsrfCheck();
app.UseAuthorization();
app.UseJsonBodyChecks();
app.MapApiHealthChecks();
app.MapMetrics();
app.MapAccounts();

if (openApiFile is not null)
{
    await File.WriteAllTextAsync(openApiFile, OpenApi.Render(app));
    Console.WriteLine($"Wrote {openApiFile}");
    return 0;
}

app.Run();
return 0;
