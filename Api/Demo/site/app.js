// @ts-check
// The demo SPA: plain JavaScript, no build step. Each page names itself in <body data-page>.
// The API is this page's own origin (the folder above /demo/), or the origin given once with
// ?api=http://host:port, remembered for the tab. The session is in the API's HttpOnly cookies
// (cookie mode: POST /login?useCookies=true), so no script on the page can read a token; every
// POST sends X-CSRF: 1, and an answer of 401 tries POST /token/refresh once before giving up.
// Browsers ignore the JSDoc types; `tsc --checkJs` (clients/typescript, npm run check:demo) holds
// every call, body and answer to the types generated from the API's OpenAPI document.
'use strict';

/** @typedef {import('../../../clients/typescript/src/schema.js').paths} Paths */
/** @typedef {import('../../../clients/typescript/src/schema.js').components['schemas']} Schemas */
/** @typedef {'get' | 'post'} Method */
/**
 * The methods `P` has an operation for.
 * @template {keyof Paths} P
 * @typedef {{ [M in Method]: Paths[P][M] extends undefined ? never : M }[Method]} MethodOf
 */
/**
 * The JSON body an operation reads, or undefined for none.
 * @template {keyof Paths} P
 * @template {MethodOf<P>} M
 * @typedef {Paths[P][M] extends { requestBody: { content: { 'application/json': infer B } } } ? B : undefined} BodyOf
 */
/**
 * The JSON of an operation's success answers.
 * @template {keyof Paths} P
 * @template {MethodOf<P>} M
 * @typedef {Paths[P][M] extends { responses: infer R }
 *   ? { [S in keyof R & (200 | 201 | 202)]: R[S] extends { content: { 'application/json': infer J } } ? J : never }[keyof R & (200 | 201 | 202)]
 *   : never} SuccessOf
 */
/** @typedef {Schemas['Problem'] & Partial<Pick<Schemas['ValidationProblem'], 'errors'>>} Problem */
/**
 * What a call answered: a success with its JSON, or a failure with its problem (null when the
 * browser could not reach the API, status 0, or the answer was not JSON).
 * @template {keyof Paths} P
 * @template {MethodOf<P>} M
 * @typedef {{ ok: true, status: number, data: SuccessOf<P, M> } | { ok: false, status: number, data: Problem | null }} Result
 */

(() => {
  const en = {
    'nav.brand': 'Accounts demo',
    'nav.register': 'Register',
    'nav.login': 'Sign in',
    'footer.api': 'API',
    'field.username': 'Username',
    'field.email': 'Email',
    'field.password': 'Password',
    'field.confirmPassword': 'Confirm password',
    'field.birthday': 'Birthday (optional)',
    'field.login': 'Username or email',
    'register.title': 'Create an account',
    'register.heading': 'Create an account',
    'register.submit': 'Create account',
    'register.usernameTaken': 'This username is taken. Choose another one.',
    'checkMail.heading': 'Check your mail',
    'checkMail.sent': 'We sent an activation link to {email}.',
    'checkMail.hint': 'Open the link in that mail to activate the account, then sign in.',
    'checkMail.signIn': 'Go to sign in',
    'activated.title': 'Account activation',
    'activated.checking': 'Checking the link…',
    'activated.confirm.heading': 'Activate your account',
    'activated.confirm.message': 'Press the button to activate your account.',
    'activated.confirm': 'Activate my account',
    'code.heading': 'Enter the 6-digit code we sent',
    'field.code': 'Code',
    'code.submit': 'Activate',
    'code.invalid': 'This code is not valid. Check it, or ask for a new mail.',
    'code.expired': 'This code has expired. Ask for a new mail.',
    'activated.activated.heading': 'Account activated',
    'activated.activated.message': 'Your account is active. You can sign in now.',
    'activated.already_active.heading': 'Already active',
    'activated.already_active.message': 'This account was already activated. You can sign in.',
    'activated.expired.heading': 'Link expired',
    'activated.expired.message': 'This activation link has expired. Enter your email and we will send a new one.',
    'activated.invalid.heading': 'Link not valid',
    'activated.invalid.message': 'This activation link is not valid. Check that you opened the whole link, or register again.',
    'activated.signIn': 'Sign in',
    'activated.resend': 'Send a new link',
    'activated.resent': 'If that address has an account waiting for activation, a new link is on its way.',
    'login.title': 'Sign in',
    'login.heading': 'Sign in',
    'login.submit': 'Sign in',
    'login.invalid': 'The login or the password is wrong.',
    'login.notActivated': 'This account is not activated yet. Follow the link in the activation mail first.',
    'login.signedOut': 'Your session ended. Sign in again.',
    'profile.heading': 'Your profile',
    'profile.birthday': 'Birthday',
    'profile.status': 'Status',
    'profile.createdAt': 'Registered',
    'profile.activatedAt': 'Activated',
    'profile.signOut': 'Sign out',
    'profile.signOutAll': 'Sign out everywhere',
    'field.newEmail': 'New email',
    'field.currentPassword': 'Current password',
    'field.newPassword': 'New password',
    'field.confirmNewPassword': 'Confirm new password',
    'changeEmail.heading': 'Change email',
    'changeEmail.submit': 'Send confirmation',
    'changeEmail.sent': 'We sent a link and a 6-digit code to {email}. Open the link, or enter the code here: the address changes only then.',
    'changeEmail.confirm': 'Confirm new email',
    'changeEmail.changed': 'Your email address is now {email}. Sign in with it from now on.',
    'changeEmail.taken': 'Another account has this address now. Ask again with another one.',
    'changePassword.heading': 'Change password',
    'changePassword.submit': 'Change password',
    'changePassword.changed': 'Your password is changed and every session has ended. Sign in with the new password.',
    'password.wrong': 'The password is wrong.',
    'deleteAccount.heading': 'Delete account',
    'deleteAccount.hint': 'This erases the account and everything tied to it, at once. It cannot be undone.',
    'deleteAccount.submit': 'Delete my account',
    'deleteAccount.done': 'Your account is deleted. Its username and email address are free again.',
    'status.active': 'Active',
    'status.pending_activation': 'Waiting for activation',
    'error.network': 'Could not reach the API at {api}. Is it running, and is this page\'s origin in Cors:AllowedOrigins?',
    'error.rateLimited': 'Too many attempts. Wait a few minutes and try again.',
    'error.unexpected': 'Something went wrong ({status}). Try again.',
  };

  /** @typedef {keyof typeof en} MessageKey */
  /** @typedef {'en' | 'zh-CN'} Language */
  /** @type {Record<Language, Record<MessageKey, string>>} */
  const messages = {
    en,
    'zh-CN': {
    'nav.brand': '账户演示',
    'nav.register': '注册',
    'nav.login': '登录',
    'footer.api': '接口',
    'field.username': '用户名',
    'field.email': '邮箱',
    'field.password': '密码',
    'field.confirmPassword': '确认密码',
    'field.birthday': '生日（可选）',
    'field.login': '用户名或邮箱',
    'register.title': '注册账户',
    'register.heading': '注册账户',
    'register.submit': '注册',
    'register.usernameTaken': '这个用户名已被使用，请换一个。',
    'checkMail.heading': '请查收邮件',
    'checkMail.sent': '激活链接已发送到 {email}。',
    'checkMail.hint': '打开邮件中的链接激活账户，然后登录。',
    'checkMail.signIn': '前往登录',
    'activated.title': '账户激活',
    'activated.checking': '正在检查链接…',
    'activated.confirm.heading': '激活您的账户',
    'activated.confirm.message': '请点击下面的按钮激活账户。',
    'activated.confirm': '激活我的账户',
    'code.heading': '输入我们发送的 6 位验证码',
    'field.code': '验证码',
    'code.submit': '激活',
    'code.invalid': '验证码无效。请检查，或重新获取邮件。',
    'code.expired': '验证码已过期，请重新获取邮件。',
    'activated.activated.heading': '账户已激活',
    'activated.activated.message': '您的账户已经激活，现在可以登录了。',
    'activated.already_active.heading': '账户早已激活',
    'activated.already_active.message': '这个账户之前已经激活过了，可以直接登录。',
    'activated.expired.heading': '链接已过期',
    'activated.expired.message': '这个激活链接已经过期。请输入邮箱，我们会重新发送。',
    'activated.invalid.heading': '链接无效',
    'activated.invalid.message': '这个激活链接无效，请确认打开的是完整的链接，或重新注册。',
    'activated.signIn': '登录',
    'activated.resend': '重新发送激活链接',
    'activated.resent': '如果这个邮箱有待激活的账户，新的激活链接已经在路上了。',
    'login.title': '登录',
    'login.heading': '登录',
    'login.submit': '登录',
    'login.invalid': '用户名、邮箱或密码错误。',
    'login.notActivated': '这个账户还没有激活，请先打开激活邮件中的链接。',
    'login.signedOut': '登录已失效，请重新登录。',
    'profile.heading': '个人资料',
    'profile.birthday': '生日',
    'profile.status': '状态',
    'profile.createdAt': '注册时间',
    'profile.activatedAt': '激活时间',
    'profile.signOut': '退出登录',
    'profile.signOutAll': '在所有设备上退出',
    'field.newEmail': '新邮箱',
    'field.currentPassword': '当前密码',
    'field.newPassword': '新密码',
    'field.confirmNewPassword': '确认新密码',
    'changeEmail.heading': '更改邮箱',
    'changeEmail.submit': '发送确认邮件',
    'changeEmail.sent': '确认链接和 6 位验证码已发送到 {email}。打开链接，或在这里输入验证码：邮箱在确认后才会更改。',
    'changeEmail.confirm': '确认新邮箱',
    'changeEmail.changed': '您的邮箱现在是 {email}，以后请用它登录。',
    'changeEmail.taken': '另一个账户已经在使用这个地址，请换一个地址重新申请。',
    'changePassword.heading': '修改密码',
    'changePassword.submit': '修改密码',
    'changePassword.changed': '密码已修改，所有登录都已失效。请用新密码重新登录。',
    'password.wrong': '密码错误。',
    'deleteAccount.heading': '删除账户',
    'deleteAccount.hint': '这会立即删除账户及与之相关的一切，无法撤销。',
    'deleteAccount.submit': '删除我的账户',
    'deleteAccount.done': '您的账户已删除，它的用户名和邮箱可以重新使用了。',
    'status.active': '已激活',
    'status.pending_activation': '待激活',
    'error.network': '无法连接接口 {api}。请确认它正在运行，并且本页面的来源在 Cors:AllowedOrigins 中。',
    'error.rateLimited': '尝试次数过多，请几分钟后再试。',
    'error.unexpected': '出错了（{status}），请重试。',
    },
  };

  const API_KEY = 'accounts-demo-api';

  /**
   * The first supported language the browser prefers: Simplified Chinese for zh (not Hant/TW/HK/MO), else English.
   * @param {readonly string[]} tags
   * @returns {Language}
   */
  function pickLanguage(tags) {
    for (const tag of tags) {
      const t = (tag || '').toLowerCase();
      if (t === 'zh' || (t.startsWith('zh-') && !/hant|-tw$|-hk$|-mo$/.test(t))) return 'zh-CN';
      if (t === 'en' || t.startsWith('en-')) return 'en';
    }
    return 'en';
  }

  const lang = pickLanguage(navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]);

  /**
   * @param {MessageKey} key
   * @param {Record<string, string>} [values]
   */
  function t(key, values) {
    let text = messages[lang][key] ?? messages.en[key] ?? key;
    for (const [name, value] of Object.entries(values || {})) text = text.replace(`{${name}}`, value);
    return text;
  }

  function resolveApiBase() {
    const given = new URLSearchParams(location.search).get('api');
    if (given) {
      try {
        const url = new URL(given);
        if (url.protocol === 'http:' || url.protocol === 'https:') {
          sessionStorage.setItem(API_KEY, (url.origin + url.pathname).replace(/\/+$/, ''));
        }
      } catch {
        // Not a URL: keep the previous base.
      }
    }
    return sessionStorage.getItem(API_KEY) || new URL('../', location.href).href.replace(/\/+$/, '');
  }

  const apiBase = resolveApiBase();

  /**
   * One request with the session cookies (`credentials: 'include'`, so they also go to an API on
   * another origin of the same site that lists this one in Cors:AllowedOrigins); never throws.
   * @param {string} method
   * @param {string} path
   * @param {unknown} body
   */
  async function send(method, path, body) {
    /** @type {Record<string, string>} */
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    // Cookie mode: a request the session cookie signs in must prove it is not a cross-site form.
    if (method !== 'get') headers['X-CSRF'] = '1';
    try {
      return await fetch(apiBase + path, {
        method: method.toUpperCase(),
        headers,
        credentials: 'include',
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch {
      return null;
    }
  }

  /** Paths whose 401 is an answer in itself, not an access token to renew. */
  const noRefresh = new Set(['/login', '/token/refresh']);

  /**
   * Calls the API; never throws. status 0 means the browser could not reach it (down, or refused
   * by CORS). A 401 elsewhere renews the session once (the refresh cookie, rotated by the API)
   * and sends the request again.
   * @template {keyof Paths} P
   * @template {MethodOf<P>} M
   * @param {M} method
   * @param {P} path
   * @param {{ body?: BodyOf<P, M>, query?: string }} [options]
   * @returns {Promise<Result<P, M>>}
   */
  async function api(method, path, { body, query = '' } = {}) {
    let response = await send(method, path + query, body);
    if (response && response.status === 401 && !noRefresh.has(path)) {
      // 204: renewed. 401: ended, or another tab won a refresh race and its new cookies are here now.
      const refreshed = await send('post', '/token/refresh', undefined);
      if (refreshed && (refreshed.status === 204 || refreshed.status === 401)) response = await send(method, path + query, body);
    }
    if (!response) return { ok: false, status: 0, data: null };
    let data = null;
    if ((response.headers.get('Content-Type') || '').includes('json')) {
      try { data = await response.json(); } catch { data = null; }
    }
    return /** @type {Result<P, M>} */ ({ ok: response.ok, status: response.status, data });
  }

  /**
   * A sentence for a failure no field owns.
   * @param {{ status: number, data: Problem | null }} result
   */
  function describe(result) {
    if (result.status === 0) return t('error.network', { api: apiBase });
    if (result.status === 429) return t('error.rateLimited');
    return (result.data && result.data.title) || t('error.unexpected', { status: String(result.status) });
  }

  /**
   * The element with this id, which the page has.
   * @param {string} id
   */
  function byId(id) {
    const el = document.getElementById(id);
    if (!el) throw new Error(`The page has no #${id}.`);
    return el;
  }

  /**
   * The form with this id.
   * @param {string} id
   */
  function formById(id) {
    const el = byId(id);
    if (!(el instanceof HTMLFormElement)) throw new Error(`#${id} is not a form.`);
    return el;
  }

  /** @param {HTMLFormElement} form */
  function clearErrors(form) {
    for (const el of form.querySelectorAll('.error')) { el.textContent = ''; /** @type {HTMLElement} */ (el).hidden = true; }
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  }

  /**
   * @param {HTMLFormElement} form
   * @param {string} text
   */
  function showFormError(form, text) {
    const el = /** @type {HTMLElement} */ (form.querySelector('.form-error'));
    el.textContent = text;
    el.hidden = false;
  }

  /**
   * Puts each field's messages from a validation problem next to its input; others go to the form.
   * @param {HTMLFormElement} form
   * @param {Record<string, string[]>} errors
   */
  function showFieldErrors(form, errors) {
    const unplaced = [];
    for (const [field, list] of Object.entries(errors)) {
      const text = list.join(' ');
      const input = form.elements.namedItem(field);
      // The input names its error element: two forms on a page may both have an email field.
      const errorId = input instanceof Element ? input.getAttribute('aria-describedby') : null;
      const el = errorId ? document.getElementById(errorId) : null;
      if (input instanceof Element && el && form.contains(el)) {
        el.textContent = text;
        el.hidden = false;
        input.setAttribute('aria-invalid', 'true');
      } else {
        unplaced.push(text);
      }
    }
    if (unplaced.length) showFormError(form, unplaced.join(' '));
    const first = form.querySelector('[aria-invalid="true"]');
    if (first instanceof HTMLElement) first.focus();
  }

  /**
   * Runs a submit handler with the button disabled and earlier errors cleared.
   * @param {HTMLFormElement} form
   * @param {() => Promise<void>} handler
   */
  function onSubmit(form, handler) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const button = /** @type {HTMLButtonElement} */ (form.querySelector('button[type="submit"]'));
      button.disabled = true;
      clearErrors(form);
      try { await handler(); } finally { button.disabled = false; }
    });
  }

  /**
   * @param {HTMLFormElement} form
   * @param {string} name
   */
  function value(form, name) { return /** @type {HTMLInputElement} */ (form.elements.namedItem(name)).value; }

  /**
   * @param {string} id
   * @param {boolean} visible
   */
  function show(id, visible) { byId(id).hidden = !visible; }

  /**
   * @param {string} id
   * @param {string} text
   */
  function setText(id, text) { byId(id).textContent = text; }

  /**
   * A form that activates with a typed code: POST /activate {email, code}.
   * @param {HTMLFormElement} form
   * @param {() => string} email
   * @param {(status: 'activated' | 'already_active') => void} done
   */
  function wireCodeForm(form, email, done) {
    onSubmit(form, async () => {
      const result = await api('post', '/activate', { body: { email: email(), code: value(form, 'code').trim() } });
      if (result.ok) {
        done(result.data.status);
      } else if (result.data && result.data.code === 'code_invalid') {
        showFieldErrors(form, { code: [t('code.invalid')] });
      } else if (result.data && result.data.code === 'token_expired') {
        showFieldErrors(form, { code: [t('code.expired')] });
      } else if (result.status === 400 && result.data && result.data.errors) {
        showFieldErrors(form, result.data.errors);
      } else {
        showFormError(form, describe(result));
      }
    });
  }

  function registerPage() {
    const form = formById('register-form');
    onSubmit(form, async () => {
      const result = await api('post', '/register', {
        body: {
          username: value(form, 'username'),
          email: value(form, 'email'),
          password: value(form, 'password'),
          confirmPassword: value(form, 'confirmPassword'),
          birthday: value(form, 'birthday') || null,
        },
      });
      if (result.ok) {
        const registered = result.data.email;
        setText('check-mail-sent', t('checkMail.sent', { email: registered }));
        show('register', false);
        show('check-mail', true);
        wireCodeForm(formById('code-form'), () => registered, () => {
          show('code-form', false);
          show('code-done', true);
        });
      } else if (result.status === 400 && result.data && result.data.errors) {
        showFieldErrors(form, result.data.errors);
      } else if (result.data && result.data.code === 'username_taken') {
        showFieldErrors(form, { username: [t('register.usernameTaken')] });
      } else {
        showFormError(form, describe(result));
      }
    });
  }

  /** @type {readonly string[]} */
  const activationStatuses = /** @type {const} */ (['activated', 'already_active', 'expired', 'invalid']);

  /**
   * @param {string | null} status
   * @returns {status is 'activated' | 'already_active' | 'expired' | 'invalid'}
   */
  function isActivationStatus(status) { return status !== null && activationStatuses.includes(status); }

  function activatedPage() {
    const params = new URLSearchParams(location.search);
    const token = params.get('token');

    /** @param {string | null} status */
    const showStatus = (status) => {
      const shown = isActivationStatus(status) ? status : 'invalid';
      document.body.dataset.status = shown;
      setText('activation-heading', t(`activated.${shown}.heading`));
      setText('activation-message', t(`activated.${shown}.message`));
      show('activation-sign-in', shown === 'activated' || shown === 'already_active');
      show('resend-form', shown === 'expired');
    };

    const resend = formById('resend-form');
    onSubmit(resend, async () => {
      const result = await api('post', '/activation/resend', { body: { email: value(resend, 'email') } });
      if (result.ok) {
        show('resend-form', false);
        show('resend-done', true);
      } else if (result.status === 400 && result.data && result.data.errors) {
        showFieldErrors(resend, result.data.errors);
      } else {
        showFormError(resend, describe(result));
      }
    });

    if (!token) {
      const status = params.get('status');
      if (status === null) {
        setText('activation-heading', t('activated.title'));
        setText('activation-message', '');
      } else {
        showStatus(status);
      }
      // Opened without a link's answer, or with a link that failed: a typed code may still work.
      const codeForm = formById('code-form');
      show('code-form', status !== 'activated' && status !== 'already_active');
      wireCodeForm(codeForm, () => value(codeForm, 'email'), (activated) => {
        show('code-form', false);
        showStatus(activated);
      });
      return;
    }

    // Activation:LinkUrl points here. Drop the token from the address bar and history, and activate
    // only when the person presses the button: a mail scanner that runs the page activates nothing.
    history.replaceState(null, '', location.pathname);
    setText('activation-heading', t('activated.confirm.heading'));
    setText('activation-message', t('activated.confirm.message'));
    show('activate-form', true);
    const confirm = formById('activate-form');
    onSubmit(confirm, async () => {
      const result = await api('post', '/activate', { body: { token } });
      if (!result.ok && (result.status === 0 || result.status === 429 || result.status >= 500)) {
        showFormError(confirm, describe(result));
        return;
      }
      show('activate-form', false);
      showStatus(result.ok ? result.data.status : result.data && result.data.code === 'token_expired' ? 'expired' : 'invalid');
    });
  }

  async function loginPage() {
    const form = formById('login-form');
    const emailForm = formById('email-form');
    const emailCodeForm = formById('email-code-form');
    const passwordForm = formById('password-form');
    const deleteForm = formById('delete-form');
    /** The address the last change request went to: the code confirms that one. */
    let pendingEmail = '';

    /**
     * @param {{ error?: string, notice?: string }} [message]
     */
    const showLogin = ({ error, notice } = {}) => {
      for (const f of [emailForm, emailCodeForm, passwordForm, deleteForm]) { f.reset(); clearErrors(f); }
      show('profile', false);
      show('login', true);
      document.title = t('login.title');
      if (error) showFormError(form, error);
      setText('login-notice', notice || '');
      show('login-notice', Boolean(notice));
    };

    /** @param {string} text */
    const notify = (text) => {
      setText('profile-notice', text);
      show('profile-notice', true);
    };

    /**
     * What a profile form does with a failure: a sign-in that ended goes back to the form; a field's
     * problem goes next to it; the rest under the form.
     * @param {HTMLFormElement} target
     * @param {{ status: number, data: Problem | null }} result
     * @param {Record<string, string>} [fieldOf] the field a problem code belongs to
     */
    const showFailure = (target, result, fieldOf = {}) => {
      const code = result.data && result.data.code;
      if (result.status === 401) {
        showLogin({ error: t('login.signedOut') });
      } else if (code === 'wrong_password' && fieldOf.wrong_password) {
        showFieldErrors(target, { [fieldOf.wrong_password]: [t('password.wrong')] });
      } else if (result.status === 400 && result.data && result.data.errors) {
        showFieldErrors(target, result.data.errors);
      } else {
        showFormError(target, describe(result));
      }
    };

    /** @param {{ opening?: boolean }} [options] opening: the page just loaded, so a 401 only means not signed in yet */
    const showProfile = async ({ opening = false } = {}) => {
      const result = await api('get', '/me');
      if (!result.ok) {
        showLogin(opening && result.status === 401 ? {} : { error: result.status === 401 ? t('login.signedOut') : describe(result) });
        return;
      }
      const me = result.data;
      /** @param {string | null} iso */
      const when = (iso) => (iso ? new Date(iso).toLocaleString(lang) : '—');
      setText('profile-username', me.username);
      setText('profile-email', me.email);
      setText('profile-birthday', me.birthday || '—');
      setText('profile-status', t(`status.${me.status}`));
      setText('profile-created', when(me.createdAt));
      setText('profile-activated', when(me.activatedAt));
      show('login', false);
      show('login-notice', false);
      show('profile', true);
      document.title = t('profile.heading');
    };

    onSubmit(form, async () => {
      const result = await api('post', '/login', { body: { login: value(form, 'login'), password: value(form, 'password') }, query: '?useCookies=true' });
      if (result.ok) {
        form.reset();
        await showProfile();
      } else if (result.status === 400 && result.data && result.data.errors) {
        showFieldErrors(form, result.data.errors);
      } else if (result.data && result.data.code === 'invalid_credentials') {
        showFormError(form, t('login.invalid'));
      } else if (result.data && result.data.code === 'account_not_activated') {
        showFormError(form, t('login.notActivated'));
      } else {
        showFormError(form, describe(result));
      }
    });

    // POST /me/email: nothing changes until the new address confirms, by the mailed link or the code typed here.
    onSubmit(emailForm, async () => {
      show('profile-notice', false);
      const email = value(emailForm, 'email').trim();
      const result = await api('post', '/me/email', { body: { email, password: value(emailForm, 'password') } });
      if (result.ok) {
        pendingEmail = email;
        emailForm.reset();
        setText('email-code-sent', t('changeEmail.sent', { email }));
        clearErrors(emailCodeForm);
        show('email-form', false);
        show('email-code-form', true);
        /** @type {HTMLInputElement} */ (byId('email-code')).focus();
      } else {
        showFailure(emailForm, result, { wrong_password: 'password' });
      }
    });

    onSubmit(emailCodeForm, async () => {
      const result = await api('post', '/email/confirm', { body: { email: pendingEmail, code: value(emailCodeForm, 'code').trim() } });
      const code = result.ok ? null : result.data && result.data.code;
      if (result.ok) {
        setText('profile-email', result.data.email);
        emailCodeForm.reset();
        show('email-code-form', false);
        show('email-form', true);
        notify(t('changeEmail.changed', { email: result.data.email }));
      } else if (code === 'code_invalid') {
        showFieldErrors(emailCodeForm, { code: [t('code.invalid')] });
      } else if (code === 'token_expired') {
        showFieldErrors(emailCodeForm, { code: [t('code.expired')] });
      } else if (code === 'email_taken') {
        show('email-code-form', false);
        show('email-form', true);
        showFormError(emailForm, t('changeEmail.taken'));
      } else {
        showFailure(emailCodeForm, result);
      }
    });

    // POST /me/password ends every sign-in, this one too: back to the form, to sign in with the new password.
    onSubmit(passwordForm, async () => {
      show('profile-notice', false);
      const result = await api('post', '/me/password', {
        body: {
          currentPassword: value(passwordForm, 'currentPassword'),
          password: value(passwordForm, 'password'),
          confirmPassword: value(passwordForm, 'confirmPassword'),
        },
      });
      if (result.ok) {
        showLogin({ notice: t('changePassword.changed') });
      } else {
        showFailure(passwordForm, result, { wrong_password: 'currentPassword' });
      }
    });

    // POST /me/delete erases the account at once; this sign-in ends with it.
    onSubmit(deleteForm, async () => {
      show('profile-notice', false);
      const result = await api('post', '/me/delete', { body: { password: value(deleteForm, 'password') } });
      if (result.ok) {
        showLogin({ notice: t('deleteAccount.done') });
      } else {
        showFailure(deleteForm, result, { wrong_password: 'password' });
      }
    });

    // POST /logout ends this session (its cookies too); POST /logout/all every session of the account.
    for (const [id, path] of /** @type {const} */ ([['sign-out', '/logout'], ['sign-out-all', '/logout/all']])) {
      byId(id).addEventListener('click', async () => {
        const result = await api('post', path);
        clearErrors(form);
        showLogin(result.ok || result.status === 401 ? {} : { error: describe(result) });
      });
    }

    await showProfile({ opening: true });
  }

  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll('[data-i18n]')) {
    el.textContent = t(/** @type {MessageKey} */ (/** @type {HTMLElement} */ (el).dataset.i18n));
  }
  document.title = t(/** @type {MessageKey} */ (document.body.dataset.title));
  setText('api-base', apiBase);
  /** @type {HTMLAnchorElement} */ (byId('swagger-link')).href = `${apiBase}/swagger`;

  /** @type {Record<string, () => void | Promise<void>>} */
  const pages = { register: registerPage, activated: activatedPage, login: loginPage };
  const page = pages[document.body.dataset.page ?? ''];
  if (page) page();
})();
