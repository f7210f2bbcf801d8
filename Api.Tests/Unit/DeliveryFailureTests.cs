using System.Net.Sockets;
using Accounts.Api.Email;
using MailKit.Net.Smtp;

namespace Accounts.Api.Tests.Unit;

public sealed class DeliveryFailureTests
{
    [Theory]
    [InlineData(500)]
    [InlineData(550)]
    [InlineData(552)]
    [InlineData(553)]
    [InlineData(554)]
    public void An_SMTP_5xx_reply_is_permanent(int status)
    {
        var exception = new SmtpCommandException(SmtpErrorCode.RecipientNotAccepted, (SmtpStatusCode)status, "rejected");

        var failure = DeliveryFailure.From(exception);

        Assert.True(failure.Permanent);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), failure.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(421)]
    [InlineData(450)]
    [InlineData(451)]
    [InlineData(452)]
    public void An_SMTP_4xx_reply_is_transient(int status)
    {
        var exception = new SmtpCommandException(SmtpErrorCode.MessageNotAccepted, (SmtpStatusCode)status, "try later");

        var failure = DeliveryFailure.From(exception);

        Assert.False(failure.Permanent);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_socket_error_is_transient()
    {
        var failure = DeliveryFailure.From(new SocketException((int)SocketError.ConnectionRefused));

        Assert.False(failure.Permanent);
        Assert.Contains("ConnectionRefused", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_IO_error_is_transient()
    {
        var failure = DeliveryFailure.From(new IOException("connection reset"));

        Assert.False(failure.Permanent);
        Assert.Contains("connection reset", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_timeout_is_transient()
    {
        var failure = DeliveryFailure.From(new TimeoutException("no reply"));

        Assert.False(failure.Permanent);
        Assert.Contains("no reply", failure.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_protocol_error_is_transient()
    {
        var failure = DeliveryFailure.From(new SmtpProtocolException("garbled reply"));

        Assert.False(failure.Permanent);
    }

    [Fact]
    public void An_unexpected_exception_is_transient_and_named_in_the_reason()
    {
        var failure = DeliveryFailure.From(new InvalidOperationException("odd"));

        Assert.False(failure.Permanent);
        Assert.Contains(nameof(InvalidOperationException), failure.Reason, StringComparison.Ordinal);
    }
}
