using Accounts.Api.Accounts;
using Microsoft.AspNetCore.Http;

namespace Accounts.Api.Tests.Unit;

public sealed class LanguagesTests
{
    private static string FromAcceptLanguage(string? header)
    {
        var context = new DefaultHttpContext();
        if (header is not null)
        {
            context.Request.Headers.AcceptLanguage = header;
        }

        return Languages.FromRequest(context.Request);
    }

    [Theory]
    [InlineData("zh-CN")]
    [InlineData("zh")]
    [InlineData("zh-Hans")]
    [InlineData("zh-Hans-CN")]
    [InlineData("zh-SG")]
    [InlineData("ZH-cn")]
    [InlineData("zh-CN,zh;q=0.9,en;q=0.8")]
    public void Simplified_Chinese_gives_zh_CN(string header)
    {
        Assert.Equal("zh-CN", FromAcceptLanguage(header));
    }

    [Theory]
    [InlineData("zh-TW")]
    [InlineData("zh-Hant")]
    [InlineData("zh-HK")]
    [InlineData("zh-MO")]
    [InlineData("zh-Hant-TW")]
    public void Traditional_Chinese_gives_English(string header)
    {
        Assert.Equal("en", FromAcceptLanguage(header));
    }

    [Fact]
    public void A_missing_header_gives_English()
    {
        Assert.Equal("en", FromAcceptLanguage(null));
    }

    [Theory]
    [InlineData("")]
    [InlineData("fr")]
    [InlineData("fr-FR, de;q=0.8")]
    [InlineData("*")]
    public void No_supported_language_gives_English(string header)
    {
        Assert.Equal("en", FromAcceptLanguage(header));
    }

    [Fact]
    public void An_unsupported_first_choice_falls_through_to_a_supported_one()
    {
        Assert.Equal("zh-CN", FromAcceptLanguage("fr, zh;q=0.5"));
    }

    [Theory]
    [InlineData("en;q=0.5, zh-CN;q=0.9", "zh-CN")]
    [InlineData("zh-CN;q=0.5, en;q=0.9", "en")]
    [InlineData("en-GB, zh-CN", "en")]
    [InlineData("zh-CN, en", "zh-CN")]
    [InlineData("zh-TW, zh-CN;q=0.8, en;q=0.5", "zh-CN")]
    public void The_supported_language_of_highest_quality_wins(string header, string expected)
    {
        Assert.Equal(expected, FromAcceptLanguage(header));
    }

    [Fact]
    public void A_language_of_quality_zero_is_never_chosen()
    {
        Assert.Equal("en", FromAcceptLanguage("zh-CN;q=0"));
    }
}
