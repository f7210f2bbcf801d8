namespace Accounts.Api.Accounts;

/// <summary>
/// The stable <c>code</c> members of the accounts' problems (DESIGN.md's contract), in one place;
/// the framework-wide ones (<c>validation_failed</c>, <c>invalid_json</c>, …) are in <c>Infrastructure/</c>.
/// </summary>
public static class AccountErrors
{
    /// <summary>409: another account has the username.</summary>
    public const string UsernameTaken = "username_taken";

    /// <summary>404: no link has this token.</summary>
    public const string TokenNotFound = "token_not_found";

    /// <summary>410: the link expired (or, for a reset, was used).</summary>
    public const string TokenExpired = "token_expired";

    /// <summary>401: an unknown login or a wrong password, the same answer for both.</summary>
    public const string InvalidCredentials = "invalid_credentials";

    /// <summary>403: the password is right, the account still pending.</summary>
    public const string AccountNotActivated = "account_not_activated";

    /// <summary>429: the login is locked after too many failed sign-ins.</summary>
    public const string TooManyAttempts = "too_many_attempts";

    /// <summary>401: the bearer token no longer stands for a signed-in account.</summary>
    public const string Unauthorized = "unauthorized";

    /// <summary>401: a refresh token that is unknown, expired, retired (used once already) or of an ended session.</summary>
    public const string InvalidRefreshToken = "invalid_refresh_token";

    /// <summary>403: a request signed in by the session cookie changes state without the <c>X-CSRF: 1</c> header.</summary>
    public const string CsrfHeaderRequired = "csrf_header_required";

    /// <summary>403: a signed-in request's password (the current one, to change it) is wrong.</summary>
    public const string WrongPassword = "wrong_password";

    /// <summary>400: a code that does not open anything: wrong, for an unknown address, or used up by too many tries, alike.</summary>
    public const string CodeInvalid = "code_invalid";

    /// <summary>409: another account took the address an email change would move to.</summary>
    public const string EmailTaken = "email_taken";
}
