using System.Net;
using Accounts.Api.Infrastructure;

namespace Accounts.Api.Accounts;

/// <summary><c>GET /password/reset?token=…</c>: the page a mailed reset link opens, which posts the new password.</summary>
public static class PasswordResetForm
{
    /// <summary>The form only; the token stays in the page and is sent when the person submits.</summary>
    public static HtmlPage Render(HttpRequest request)
    {
        var zh = Languages.FromRequest(request) == Languages.SimplifiedChinese;
        string T(string en, string cn) => WebUtility.HtmlEncode(zh ? cn : en);
        var title = zh ? "设置新密码" : "Choose a new password";
        var body = $"""
            <h1>{T("Choose a new password", "设置新密码")}</h1>
            <form id="reset" novalidate>
            <label for="password">{T("New password", "新密码")}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required>
            <div class="error" id="password-error"></div>
            <label for="confirmPassword">{T("Repeat it", "再输入一次")}</label>
            <input id="confirmPassword" name="confirmPassword" type="password" autocomplete="new-password" required>
            <div class="error" id="confirmPassword-error"></div>
            <div class="error" id="token-error"></div>
            <button type="submit">{T("Save", "保存")}</button>
            </form>
            <p id="done" hidden>{T("Your password is changed. You can sign in with it now.", "密码已修改，现在可以用新密码登录了。")}</p>
            """;
        const string script = """
            const form = document.getElementById('reset');
            const token = new URLSearchParams(location.search).get('token') || '';
            form.addEventListener('submit', async (event) => {
              event.preventDefault();
              for (const e of document.querySelectorAll('.error')) e.textContent = '';
              const response = await fetch(location.pathname, {
                method: 'POST',
                headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ token, password: form.password.value, confirmPassword: form.confirmPassword.value }),
              });
              if (response.status === 204) { form.hidden = true; document.getElementById('done').hidden = false; return; }
              const problem = await response.json();
              const errors = problem.errors || { token: [problem.title] };
              for (const [field, messages] of Object.entries(errors)) {
                const target = document.getElementById(field + '-error') || document.getElementById('token-error');
                target.textContent = messages.join(' ');
              }
            });
            """;
        return new HtmlPage(StatusCodes.Status200OK, zh ? Languages.SimplifiedChinese : Languages.English, title, body, script);
    }
}
