using Accounts.Api.Accounts;
using FluentValidation.TestHelper;
using Microsoft.Extensions.Time.Testing;

namespace Accounts.Api.Tests.Unit;

/// <summary>The registration field rules of DESIGN.md, one rule at a time.</summary>
public sealed class RegisterRequestValidatorTests
{
    private const string UsernameLength = "Username must be 3 to 32 characters long.";
    private const string UsernameCharacters = "Username may contain only letters, digits, '_', '.' and '-'.";
    private const string StrongPassword = "correct horse battery staple";

    /// <summary>"Now" for every test: 2025-06-15 at noon UTC.</summary>
    private static readonly DateTimeOffset Now = new(2025, 6, 15, 12, 0, 0, TimeSpan.Zero);

    /// <summary>Scores with the same "now" (zxcvbn rates years by their distance from the current one).</summary>
    private static readonly PasswordStrength Strength = new(new FakeTimeProvider(Now));

    private readonly RegisterRequestValidator _validator = new(Strength, new FakeTimeProvider(Now));

    private static RegisterRequest Valid() => new()
    {
        Username = "alice",
        Email = "alice@example.com",
        Password = StrongPassword,
        ConfirmPassword = StrongPassword,
        Birthday = "1990-05-17",
    };

    [Fact]
    public void A_complete_valid_request_passes()
    {
        _validator.TestValidate(Valid()).ShouldNotHaveAnyValidationErrors();
    }

    [Fact]
    public async Task Every_failing_field_is_reported_by_one_validation()
    {
        var request = new RegisterRequest
        {
            Username = "a b",
            Email = "not-an-email",
            Password = "short",
            ConfirmPassword = "different",
            Birthday = "17/05/1990",
        };

        var result = await _validator.TestValidateAsync(request);

        result.ShouldHaveValidationErrorFor(r => r.Username);
        result.ShouldHaveValidationErrorFor(r => r.Email);
        result.ShouldHaveValidationErrorFor(r => r.Password);
        result.ShouldHaveValidationErrorFor(r => r.ConfirmPassword);
        result.ShouldHaveValidationErrorFor(r => r.Birthday);
    }

    [Fact]
    public async Task An_empty_request_reports_every_required_field()
    {
        var result = await _validator.ValidateAsync(new RegisterRequest());

        Assert.Equal(
            ["ConfirmPassword", "Email", "Password", "Username"],
            result.Errors.Select(e => e.PropertyName).Distinct().Order(StringComparer.Ordinal));
    }

    // Username

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Username_is_required(string? username)
    {
        _validator.TestValidate(Valid() with { Username = username! })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage("Username is required.");
    }

    [Theory]
    [InlineData("张小伟")]
    [InlineData("abc")]
    [InlineData("Владимир")]
    [InlineData("Ωμέγα")]
    [InlineData("محمد")]
    [InlineData("홍길동")]
    [InlineData("José")]
    [InlineData("e\u0301e\u0301")]
    [InlineData("user123")]
    [InlineData("٣٣٣")]
    [InlineData("first_last")]
    [InlineData("first.last")]
    [InlineData("first-last")]
    public void Username_of_letters_of_any_script_digits_and_underscore_dot_dash_passes(string username)
    {
        _validator.TestValidate(Valid() with { Username = username })
            .ShouldNotHaveValidationErrorFor(r => r.Username);
    }

    [Theory]
    [InlineData("张伟")]
    [InlineData("ab")]
    [InlineData("a")]
    public void Username_shorter_than_3_characters_is_rejected(string username)
    {
        _validator.TestValidate(Valid() with { Username = username })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage(UsernameLength);
    }

    [Fact]
    public void Username_of_32_characters_passes()
    {
        _validator.TestValidate(Valid() with { Username = new string('a', 32) })
            .ShouldNotHaveValidationErrorFor(r => r.Username);
    }

    [Fact]
    public void Username_of_32_Chinese_characters_passes()
    {
        _validator.TestValidate(Valid() with { Username = new string('张', 32) })
            .ShouldNotHaveValidationErrorFor(r => r.Username);
    }

    [Fact]
    public void Username_of_33_characters_is_rejected()
    {
        _validator.TestValidate(Valid() with { Username = new string('a', 33) })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage(UsernameLength);
    }

    [Fact]
    public void Username_of_33_Chinese_characters_is_rejected()
    {
        _validator.TestValidate(Valid() with { Username = new string('张', 33) })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage(UsernameLength);
    }

    [Fact]
    public void Username_length_counts_code_points_not_UTF16_units()
    {
        // Two characters outside the BMP are four UTF-16 units: still too short.
        _validator.TestValidate(Valid() with { Username = "𠮷𠮷" })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage(UsernameLength);
    }

    [Theory]
    [InlineData("王𠮷明")]
    [InlineData("𠮷野家")]
    public void Username_with_a_CJK_extension_B_letter_passes(string username)
    {
        _validator.TestValidate(Valid() with { Username = username })
            .ShouldNotHaveValidationErrorFor(r => r.Username);
    }

    [Fact]
    public void Username_of_32_letters_outside_the_BMP_passes()
    {
        _validator.TestValidate(Valid() with { Username = string.Concat(Enumerable.Repeat("𠮷", 32)) })
            .ShouldNotHaveValidationErrorFor(r => r.Username);
    }

    [Fact]
    public void Username_of_33_letters_outside_the_BMP_is_rejected()
    {
        _validator.TestValidate(Valid() with { Username = string.Concat(Enumerable.Repeat("𠮷", 33)) })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage(UsernameLength);
    }

    [Theory]
    [InlineData("alice smith")]
    [InlineData("alice@home")]
    [InlineData("alice😀")]
    [InlineData("😀😀😀")]
    [InlineData("alice\n")]
    [InlineData("alice\t")]
    [InlineData(" alice")]
    [InlineData("o'neil")]
    [InlineData("alice+bob")]
    [InlineData("alice/bob")]
    [InlineData("<alice>")]
    public void Username_with_other_characters_is_rejected(string username)
    {
        _validator.TestValidate(Valid() with { Username = username })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage(UsernameCharacters);
    }

    [Fact]
    public void Username_with_a_lone_surrogate_is_rejected()
    {
        _validator.TestValidate(Valid() with { Username = "ali\ud800ce" })
            .ShouldHaveValidationErrorFor(r => r.Username);
    }

    // Email

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Email_is_required(string? email)
    {
        _validator.TestValidate(Valid() with { Email = email! })
            .ShouldHaveValidationErrorFor(r => r.Email)
            .WithErrorMessage("Email is required.");
    }

    [Fact]
    public void Email_of_254_characters_passes()
    {
        var email = EmailOfLength(254);

        _validator.TestValidate(Valid() with { Email = email })
            .ShouldNotHaveValidationErrorFor(r => r.Email);
    }

    [Fact]
    public void Email_of_255_characters_is_rejected()
    {
        var email = EmailOfLength(255);

        _validator.TestValidate(Valid() with { Email = email })
            .ShouldHaveValidationErrorFor(r => r.Email)
            .WithErrorMessage("Email must be at most 254 characters long.");
    }

    [Theory]
    [InlineData("Alice <alice@example.com>")]
    [InlineData("Alice<alice@example.com>")]
    [InlineData("\"Alice\"<alice@example.com>")]
    [InlineData("<alice@example.com>")]
    [InlineData("alice@example.com (Alice)")]
    [InlineData("alice@example")]
    [InlineData("alice @example.com")]
    [InlineData(" alice@example.com")]
    [InlineData("alice@example.com\n")]
    [InlineData("   ")]
    [InlineData("alice")]
    [InlineData("@example.com")]
    [InlineData("alice@")]
    public void Email_that_is_not_one_plain_address_is_rejected(string email)
    {
        _validator.TestValidate(Valid() with { Email = email })
            .ShouldHaveValidationErrorFor(r => r.Email);
    }

    [Fact]
    public void Email_with_a_lone_surrogate_is_rejected()
    {
        _validator.TestValidate(Valid() with { Email = "ali\udc00ce@example.com" })
            .ShouldHaveValidationErrorFor(r => r.Email)
            .WithErrorMessage("Email is not a valid email address.");
    }

    // Password

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void Password_is_required(string? password)
    {
        _validator.TestValidate(Valid() with { Password = password!, ConfirmPassword = password! })
            .ShouldHaveValidationErrorFor(r => r.Password)
            .WithErrorMessage("Password is required.");
    }

    [Fact]
    public void Password_of_7_characters_is_rejected()
    {
        _validator.TestValidate(Valid() with { Password = "Zq8#vT1", ConfirmPassword = "Zq8#vT1" })
            .ShouldHaveValidationErrorFor(r => r.Password)
            .WithErrorMessage("Password must be 8 to 128 characters long.");
    }

    [Fact]
    public void Password_of_8_characters_that_is_hard_to_guess_passes()
    {
        _validator.TestValidate(Valid() with { Password = "Zq8#vT1m", ConfirmPassword = "Zq8#vT1m" })
            .ShouldNotHaveValidationErrorFor(r => r.Password);
    }

    [Fact]
    public void Password_of_128_characters_passes()
    {
        var password = LongPassword(128);

        _validator.TestValidate(Valid() with { Password = password, ConfirmPassword = password })
            .ShouldNotHaveValidationErrorFor(r => r.Password);
    }

    [Fact]
    public void Password_of_129_characters_is_rejected()
    {
        var password = LongPassword(129);

        _validator.TestValidate(Valid() with { Password = password, ConfirmPassword = password })
            .ShouldHaveValidationErrorFor(r => r.Password)
            .WithErrorMessage("Password must be 8 to 128 characters long.");
    }

    [Fact]
    public void Password_of_4_emoji_is_rejected_as_too_short()
    {
        _validator.TestValidate(Valid() with { Password = "🐉🦄🌋🎻", ConfirmPassword = "🐉🦄🌋🎻" })
            .ShouldHaveValidationErrorFor(r => r.Password)
            .WithErrorMessage("Password must be 8 to 128 characters long.");
    }

    [Fact]
    public void Password_of_65_emoji_is_not_too_long()
    {
        // 65 characters, 130 UTF-16 units: the limit is on characters.
        var password = string.Concat(Enumerable.Range(0, 65).Select(i => char.ConvertFromUtf32(0x1F400 + (i * 37 % 200))));

        _validator.TestValidate(Valid() with { Password = password, ConfirmPassword = password })
            .ShouldNotHaveValidationErrorFor(r => r.Password);
    }

    [Fact]
    public void Password_of_8_emoji_is_long_enough()
    {
        const string Password = "🐉🦄🌋🎻🐙🍄🚲🧭";

        _validator.TestValidate(Valid() with { Password = Password, ConfirmPassword = Password })
            .ShouldNotHaveValidationErrorFor(r => r.Password);
    }

    [Theory]
    [InlineData("password")]
    [InlineData("12345678")]
    [InlineData("qwertyuiop")]
    [InlineData("Password1")]
    [InlineData("abababababab")]
    [InlineData("footballfootball")]
    [InlineData("1987111519871115")]
    [InlineData("12345678901234567890")]
    [InlineData("qazwsxedcrfv")]
    [InlineData("dragon1987")]
    public void Password_that_is_easy_to_guess_is_rejected(string password)
    {
        _validator.TestValidate(Valid() with { Password = password, ConfirmPassword = password })
            .ShouldHaveValidationErrorFor(r => r.Password)
            .WithErrorMessage("Password is too easy to guess: use a longer phrase, and not your username or email.");
    }

    [Theory]
    [InlineData("zebra crossing")]
    [InlineData("grumpy walrus")]
    [InlineData("zebracrossing7")]
    [InlineData("zebracrossing")]
    [InlineData("purple elephant")]
    [InlineData("blue canoe")]
    public void Password_of_zxcvbn_score_2_passes(string password)
    {
        _validator.TestValidate(Valid() with { Password = password, ConfirmPassword = password })
            .ShouldNotHaveValidationErrorFor(r => r.Password);
    }

    [Fact]
    public void Password_made_of_the_username_is_rejected()
    {
        _validator.TestValidate(Valid() with { Username = "alice", Password = "alice12345", ConfirmPassword = "alice12345" })
            .ShouldHaveValidationErrorFor(r => r.Password);
    }

    [Fact]
    public void Password_made_of_words_of_the_email_is_rejected_though_it_passes_for_another_user()
    {
        var password = "ZebraCrossing";
        var stranger = Valid() with { Username = "bob", Email = "bob@example.com", Password = password, ConfirmPassword = password };
        var owner = stranger with { Email = "zebra.crossing@example.com" };

        _validator.TestValidate(stranger).ShouldNotHaveValidationErrorFor(r => r.Password);
        _validator.TestValidate(owner).ShouldHaveValidationErrorFor(r => r.Password);
    }

    [Fact]
    public void Password_that_is_a_long_phrase_passes()
    {
        _validator.TestValidate(Valid() with { Password = StrongPassword, ConfirmPassword = StrongPassword })
            .ShouldNotHaveValidationErrorFor(r => r.Password);
    }

    // Confirm password

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void ConfirmPassword_is_required(string? confirm)
    {
        _validator.TestValidate(Valid() with { ConfirmPassword = confirm! })
            .ShouldHaveValidationErrorFor(r => r.ConfirmPassword)
            .WithErrorMessage("Confirm the password.");
    }

    [Theory]
    [InlineData("correct horse battery stapl")]
    [InlineData("Correct horse battery staple")]
    [InlineData("correct horse battery staple ")]
    public void ConfirmPassword_that_differs_from_the_password_is_rejected(string confirm)
    {
        _validator.TestValidate(Valid() with { ConfirmPassword = confirm })
            .ShouldHaveValidationErrorFor(r => r.ConfirmPassword)
            .WithErrorMessage("Passwords do not match.");
    }

    [Fact]
    public void ConfirmPassword_equal_to_the_password_passes()
    {
        _validator.TestValidate(Valid())
            .ShouldNotHaveValidationErrorFor(r => r.ConfirmPassword);
    }

    // Birthday

    [Fact]
    public void Birthday_is_optional()
    {
        _validator.TestValidate(Valid() with { Birthday = null })
            .ShouldNotHaveValidationErrorFor(r => r.Birthday);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1990-5-17")]
    [InlineData("1990-05-7")]
    [InlineData("90-05-17")]
    [InlineData("17/05/1990")]
    [InlineData("05/17/1990")]
    [InlineData("1990/05/17")]
    [InlineData("19900517")]
    [InlineData("1990-05-17T00:00:00")]
    [InlineData("1990-05-17 ")]
    [InlineData(" 1990-05-17")]
    [InlineData("1990-02-30")]
    [InlineData("1990-13-01")]
    [InlineData("May 17, 1990")]
    [InlineData("yesterday")]
    public void Birthday_not_in_the_form_yyyy_MM_dd_is_rejected(string birthday)
    {
        _validator.TestValidate(Valid() with { Birthday = birthday })
            .ShouldHaveValidationErrorFor(r => r.Birthday)
            .WithErrorMessage("Birthday must be a date in the form yyyy-MM-dd.");
    }

    [Theory]
    [InlineData("2025-06-15")]
    [InlineData("2025-06-16")]
    [InlineData("2100-01-01")]
    public void Birthday_today_or_later_is_rejected(string birthday)
    {
        _validator.TestValidate(Valid() with { Birthday = birthday })
            .ShouldHaveValidationErrorFor(r => r.Birthday)
            .WithErrorMessage("Birthday must be in the past.");
    }

    [Fact]
    public void Birthday_yesterday_passes()
    {
        _validator.TestValidate(Valid() with { Birthday = "2025-06-14" })
            .ShouldNotHaveValidationErrorFor(r => r.Birthday);
    }

    [Fact]
    public void Birthday_in_the_past_is_judged_by_the_injected_clock()
    {
        var time = new FakeTimeProvider(Now);
        var validator = new RegisterRequestValidator(Strength, time);
        var request = Valid() with { Birthday = "2025-06-15" };

        validator.TestValidate(request).ShouldHaveValidationErrorFor(r => r.Birthday);

        time.Advance(TimeSpan.FromDays(1));

        validator.TestValidate(request).ShouldNotHaveValidationErrorFor(r => r.Birthday);
    }

    [Fact]
    public void Birthday_on_1900_01_01_passes()
    {
        _validator.TestValidate(Valid() with { Birthday = "1900-01-01" })
            .ShouldNotHaveValidationErrorFor(r => r.Birthday);
    }

    [Theory]
    [InlineData("1899-12-31")]
    [InlineData("0001-01-01")]
    public void Birthday_before_1900_is_rejected(string birthday)
    {
        _validator.TestValidate(Valid() with { Birthday = birthday })
            .ShouldHaveValidationErrorFor(r => r.Birthday)
            .WithErrorMessage("Birthday must not be before 1900-01-01.");
    }

    /// <summary>A valid address of exactly <paramref name="length"/> characters: a 64-character local part and labels of at most 63.</summary>
    private static string EmailOfLength(int length)
    {
        var local = new string('x', 64);
        var domainLength = length - local.Length - 1;
        var last = domainLength - (63 + 1 + 63 + 1) - 4;
        var domain = $"{new string('a', 63)}.{new string('b', 63)}.{new string('c', last)}.com";
        var email = $"{local}@{domain}";
        Assert.Equal(length, email.Length);
        return email;
    }

    /// <summary>A hard-to-guess password of exactly <paramref name="length"/> characters.</summary>
    private static string LongPassword(int length)
    {
        const string Alphabet = "Zq8#vT1m-Wk3!pR7x@Ld5$hN9yCj2%";
        return string.Concat(Enumerable.Range(0, length).Select(i => Alphabet[(i * 7) % Alphabet.Length]));
    }

    [Theory]
    [InlineData("\u0301\u0301\u0301")]
    [InlineData("_alice")]
    [InlineData(".alice")]
    [InlineData("-alice")]
    public void Username_must_start_with_a_letter_or_a_digit(string username)
    {
        _validator.TestValidate(Valid() with { Username = username })
            .ShouldHaveValidationErrorFor(r => r.Username)
            .WithErrorMessage("Username must start with a letter or a digit.");
    }

    [Theory]
    [InlineData("e\u0301mile")]
    [InlineData("9lives")]
    [InlineData("李_小龙")]
    public void Username_may_carry_marks_and_punctuation_after_its_first_character(string username)
    {
        _validator.TestValidate(Valid() with { Username = username })
            .ShouldNotHaveValidationErrorFor(r => r.Username);
    }
}
