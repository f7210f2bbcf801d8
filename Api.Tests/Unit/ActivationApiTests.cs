using Accounts.Api.Accounts;
using Microsoft.AspNetCore.Http;

namespace Accounts.Api.Tests.Unit;

public sealed class ActivationApiTests
{
    private static bool PrefersHtml(string? accept)
    {
        var context = new DefaultHttpContext();
        if (accept is not null)
        {
            context.Request.Headers.Accept = accept;
        }

        return ActivationApi.PrefersHtml(context.Request);
    }

    [Theory]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")]
    [InlineData("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")]
    [InlineData("text/html")]
    [InlineData("application/xhtml+xml")]
    [InlineData("text/html, application/json;q=0.5")]
    public void A_browser_prefers_HTML(string accept)
    {
        Assert.True(PrefersHtml(accept));
    }

    [Theory]
    [InlineData("*/*")]
    [InlineData("application/json")]
    [InlineData("application/problem+json")]
    [InlineData("application/json, text/plain, */*")]
    [InlineData("text/plain")]
    [InlineData("")]
    [InlineData("text/html;q=0.5, application/json")]
    [InlineData("text/html, application/json")]
    [InlineData("text/html;q=0")]
    public void An_API_client_does_not_prefer_HTML(string accept)
    {
        Assert.False(PrefersHtml(accept));
    }

    [Fact]
    public void A_missing_Accept_header_does_not_prefer_HTML()
    {
        Assert.False(PrefersHtml(null));
    }
}
