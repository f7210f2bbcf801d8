/// <summary>Lets the tests host the app with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
