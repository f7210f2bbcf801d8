using Accounts.Api.Accounts;
using Accounts.Api.Demo;
using Accounts.Api.Email;
using Accounts.Api.Infrastructure;
using Accounts.Api.Storage;

var builder = WebApplication.CreateBuilder(args);

builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddPublicUrl();
builder.Services.AddApiProblemDetails();
builder.Services.AddApiCors();
builder.Services.AddApiDocumentation();
builder.Services.AddApiHealthChecks();
builder.Services.AddApiDataProtection(builder.Configuration, builder.Environment);
builder.Services.AddStorage();
builder.Services.AddEmailDelivery();
builder.Services.AddAccounts();

var app = builder.Build();

app.UseApiProblemDetails();
app.UseApiDocumentation();
app.UseDemo();
app.UseApiCors();
app.UseAuthentication();
app.UseAuthorization();
app.MapApiHealthChecks();
app.MapAccounts();

app.Run();
