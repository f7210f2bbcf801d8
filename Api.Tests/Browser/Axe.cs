using System.Text.Json;
using Accounts.Api.Tests.Infrastructure;
using Microsoft.Playwright;

namespace Accounts.Api.Tests.Browser;

/// <summary>
/// Deque's axe-core (the npm package under <c>Api.Tests/Node</c>), injected into the page through
/// Playwright as <c>@axe-core/playwright</c> does it: evaluated by the browser's debugging protocol,
/// which the pages' Content-Security-Policy does not govern, so the pages are checked as served.
/// </summary>
public static class Axe
{
    /// <summary>WCAG 2.0 and 2.1, levels A and AA, and Deque's best practices.</summary>
    public static readonly string[] Tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

    private static readonly Lazy<Task<string>> Source = new(async () =>
        await File.ReadAllTextAsync(await NodeTools.PackageFileAsync("axe-core/axe.min.js")));

    private const string Run = """
        async (tags) => {
          const results = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
          return JSON.stringify(results.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
          })));
        }
        """;

    /// <summary>
    /// Runs axe on the page as it is now (every state a person can reach should be checked, hidden
    /// parts are skipped) and fails with each violation's rule, help text and elements.
    /// </summary>
    public static async Task AssertNoViolationsAsync(IPage page, string what)
    {
        if (!await page.EvaluateAsync<bool>("() => typeof window.axe === 'object'"))
        {
            await page.EvaluateAsync(await Source.Value);
        }

        var violations = JsonSerializer.Deserialize<Violation[]>(
            await page.EvaluateAsync<string>(Run, Tags), JsonSerializerOptions.Web)!;
        Assert.True(violations.Length == 0, $"axe-core found {violations.Length} violation(s) on {what} ({page.Url}):\n"
            + string.Join("\n", violations.Select(v => $"- {v.Id} ({v.Impact}): {v.Help}\n    " + string.Join("\n    ", v.Nodes))));
    }

    private sealed record Violation(string Id, string? Impact, string Help, string[] Nodes);
}
