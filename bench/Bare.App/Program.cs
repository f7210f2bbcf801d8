// A bare ASP.NET Core minimal API: one endpoint, the Web SDK's defaults. The footprint benchmark
// starts it beside the accounts API and compares their cold starts and resident memory.
var app = WebApplication.CreateBuilder(args).Build();
app.MapGet("/health/ready", () => "Healthy");
app.Run();
