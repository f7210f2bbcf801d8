using Accounts.Api.Infrastructure;

namespace Accounts.Api.Tests.Unit;

public sealed class JsonContentTypeTests
{
    [Theory]
    [InlineData("application/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("Application/JSON; Charset=utf-8")]
    [InlineData("application/problem+json")]
    [InlineData("application/vnd.api+json; boundary=x")]
    public void JSON_in_UTF_8_spelt_as_the_framework_reads_it_is_taken_as_it_is(string contentType)
    {
        Assert.True(RequestLimits.IsJsonInUtf8(contentType, out var canonical));
        Assert.Null(canonical);
    }

    [Theory]
    [InlineData("application/json; charset=\"utf-8\"", "application/json; charset=utf-8")]
    [InlineData("application/json; charset=UTF8", "application/json; charset=utf-8")]
    [InlineData("application/merge-patch+json; charset=unicode-1-1-utf-8", "application/merge-patch+json; charset=utf-8")]
    public void Another_label_of_UTF_8_is_respelt_utf_8(string contentType, string expected)
    {
        Assert.True(RequestLimits.IsJsonInUtf8(contentType, out var canonical));
        Assert.Equal(expected, canonical);
    }

    [Theory]
    [InlineData("application/json; charset=foo")]
    [InlineData("application/json; charset=")]
    [InlineData("application/json; charset")]
    [InlineData("application/json; charset=\"\"")]
    [InlineData("application/json; charset=utf-16")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData("application/json; charset=utf-8; charset=utf-8")]
    [InlineData("application/json; a")]
    [InlineData("application/json;;")]
    [InlineData("application/json, text/plain")]
    [InlineData("application/*+json")]
    [InlineData("*/*+json")]
    [InlineData("application/+json")]
    [InlineData("text/json")]
    [InlineData("text/plain")]
    [InlineData("")]
    public void Anything_else_is_refused(string contentType)
    {
        Assert.False(RequestLimits.IsJsonInUtf8(contentType, out _));
    }

    [Fact]
    public void Two_Content_Type_headers_are_refused_even_when_they_agree()
    {
        Assert.False(RequestLimits.IsJsonInUtf8(new(["application/json", "application/json"]), out _));
        Assert.False(RequestLimits.IsJsonInUtf8(default, out _));
    }
}
