using MimeKit;

namespace Accounts.Api.Tests.Infrastructure;

/// <summary>The message of a <see cref="ReceivedMail"/> as MimeKit reads it, and the link in it that a test follows.</summary>
public sealed partial class ReceivedMail
{
    private MimeMessage? _message;

    /// <summary>The parsed message, parsed once, on first use.</summary>
    public MimeMessage Message => LazyInitializer.EnsureInitialized(ref _message, () => MimeMessage.Load(new MemoryStream(Data, writable: false)));

    public string Subject => Message.Subject ?? "";

    public string TextBody => Message.TextBody ?? "";

    public string HtmlBody => Message.HtmlBody ?? "";

    /// <summary>The first http(s) link in the plain-text body.</summary>
    public Uri Link
    {
        get
        {
            var start = TextBody.IndexOf("http", StringComparison.Ordinal);
            Assert.True(start >= 0, $"No link in the mail:\n{TextBody}");
            var end = TextBody.IndexOfAny([' ', '\r', '\n'], start);
            return new Uri(end < 0 ? TextBody[start..] : TextBody[start..end]);
        }
    }

    /// <summary>The 6-digit code the plain-text body gives after its link.</summary>
    public string Code
    {
        get
        {
            var afterLink = TextBody[(TextBody.IndexOf(Link.AbsoluteUri, StringComparison.Ordinal) + Link.AbsoluteUri.Length)..];
            var match = System.Text.RegularExpressions.Regex.Match(afterLink, @"(?<!\d)\d{6}(?!\d)");
            Assert.True(match.Success, $"No code in the mail:\n{TextBody}");
            return match.Value;
        }
    }

    /// <summary>The <c>token</c> query parameter of <see cref="Link"/>.</summary>
    public string Token => Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Link.Query)["token"].ToString();
}
