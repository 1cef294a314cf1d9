//! The seed app: a custom user model with `bio` and `birth_date`, a home
//! page that greets the user, a guarded profile page, Django's auth views
//! from `auth_urls!`, a hand-written login view built on the primitives,
//! and pages guarded by a permission (`/reports/`) and by a test on the
//! user (`/staff/`).

use axum::{
    Form, Router,
    extract::State,
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

/// The custom user model, like `class User(AbstractUser)` in Django.
#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "accounts_user")]
pub struct User {
    /// Username, password, email, names, flags and dates.
    #[auth(base)]
    pub base: auth::AbstractUser,
    /// A free-text biography (Django's `TextField(blank=True)`: optional,
    /// empty by default).
    #[auth(default = "")]
    pub bio: String,
    /// Optional date of birth.
    pub birth_date: Option<auth::Date>,
}

auth::auth_urls! {
    pub mod urls;
    login: "/login/" => LoginView { template_name: "accounts/login.html" },
    logout: "/logout/" => LogoutView { next_page: "/" },
    password_change: "/password-change/" => PasswordChangeView,
    password_change_done: "/password-change/done/" => PasswordChangeDoneView,
    password_reset: "/password-reset/" => PasswordResetView,
    password_reset_done: "/password-reset/done/" => PasswordResetDoneView,
    password_reset_confirm: "/reset/<uidb64>/<token>/" => PasswordResetConfirmView,
    password_reset_complete: "/reset/done/" => PasswordResetCompleteView,
    sessions: "/sessions/" => SessionListView,
    reauthenticate: "/reauthenticate/" => ReauthenticateView,
    mfa_authenticate: "/login/verify/" => MfaAuthenticateView,
    mfa_index: "/account/mfa/" => MfaIndexView,
    totp_activate: "/account/mfa/totp/activate/" => TotpActivateView,
    totp_deactivate: "/account/mfa/totp/deactivate/" => TotpDeactivateView,
    recovery_codes: "/account/mfa/recovery-codes/" => RecoveryCodesView,
    passkeys: "/account/mfa/passkeys/" => PasskeysView,
}

auth::permissions! {
    pub mod perms;
    accounts: view_report = "Can view reports", publish_report = "Can publish reports";
}

/// Where the hand-written login view lives.
pub const CUSTOM_LOGIN: &str = "/custom-login/";

/// Where `cargo run -p accounts` serves (open it as `localhost`, not
/// `127.0.0.1`, for passkeys: browsers do not bind passkeys to addresses).
pub const DEVELOPMENT_ORIGIN: &str = "http://localhost:8000";

/// The app's settings: the environment's (`AUTH_*`); a login without
/// `next` lands on the profile page unless `AUTH_LOGIN_REDIRECT_URL` says
/// otherwise. `login_url` follows the `LoginView` declared above; passkeys
/// are bound to `DEVELOPMENT_ORIGIN` unless the environment names a site.
pub fn settings() -> Result<auth::Settings, auth::SettingsError> {
    let mut settings = auth::Settings::from_env()?;
    settings
        .login_redirect_url
        .get_or_insert_with(|| "/profile/".into());
    // Passkeys are bound to a site: without AUTH_SITE_URL or
    // AUTH_MFA_PASSKEY_ORIGIN, the development server's own address.
    if settings.passkey_site().is_none() {
        settings.mfa_passkey_origin = Some(DEVELOPMENT_ORIGIN.into());
    }
    Ok(settings)
}

/// The builder with the app's templates registered.
pub fn builder(settings: auth::Settings) -> auth::AuthBuilder<User> {
    auth::Auth::<User>::builder()
        .settings(settings)
        .urls(urls::URLCONF)
        .permissions(perms::ALL)
        .template(
            "accounts/base.html",
            include_str!("../templates/accounts/base.html"),
        )
        .template(
            "auth/base.html",
            include_str!("../templates/auth/base.html"),
        )
        .template("home.html", include_str!("../templates/home.html"))
        .template(
            "accounts/profile.html",
            include_str!("../templates/accounts/profile.html"),
        )
        .template(
            "accounts/login.html",
            include_str!("../templates/accounts/login.html"),
        )
        .template(
            "accounts/reports.html",
            include_str!("../templates/accounts/reports.html"),
        )
        .template(
            "accounts/staff.html",
            include_str!("../templates/accounts/staff.html"),
        )
}

async fn home(templates: auth::Templates) -> auth::Result<Html<String>> {
    templates
        .render("home.html", auth::minijinja::context! {})
        .await
}

#[auth::login_required(login_url = "/login/")]
async fn profile(user: User, templates: auth::Templates) -> auth::Result<Html<String>> {
    templates
        .render(
            "accounts/profile.html",
            auth::minijinja::context! { bio => user.bio },
        )
        .await
}

/// The reports: anonymous users go to the login page, users without
/// `accounts.view_report` get a 403 page, the others see their effective
/// permissions.
#[auth::permission_required(perms::accounts::VIEW_REPORT)]
async fn reports(
    perms: auth::UserPermissions,
    templates: auth::Templates,
) -> auth::Result<Html<String>> {
    let permissions: Vec<String> = perms.get_all_permissions().into_iter().collect();
    templates
        .render(
            "accounts/reports.html",
            auth::minijinja::context! { permissions },
        )
        .await
}

fn is_staff(user: &User) -> bool {
    user.is_staff
}

/// Staff only; anyone else goes to the login page.
#[auth::user_passes_test(is_staff, login_url = "/login/")]
async fn staff(templates: auth::Templates) -> auth::Result<Html<String>> {
    templates
        .render("accounts/staff.html", auth::minijinja::context! {})
        .await
}

#[derive(Deserialize)]
struct Credentials {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

/// The seed's "Custom Login View", on the primitives.
async fn custom_login_form(templates: auth::Templates) -> auth::Result<Html<String>> {
    templates
        .render("accounts/login.html", auth::minijinja::context! {})
        .await
}

/// `authenticate`, then `stage_login`: a user with a second factor (or
/// who must set one up) is sent to that step, never logged in on the
/// password alone.
async fn custom_login(
    session: auth::Session,
    templates: auth::Templates,
    Form(form): Form<Credentials>,
) -> auth::Result<Response> {
    match auth::authenticate::<User>(&session, &form.username, &form.password).await? {
        Some(user) => match auth::stage_login(&session, &user, Some("/")).await? {
            auth::LoginStage::Pending { url } => Ok(Redirect::to(&url).into_response()),
            _ => Ok(Redirect::to("/").into_response()),
        },
        None => Ok(templates
            .render(
                "accounts/login.html",
                auth::minijinja::context! { error => "Invalid credentials" },
            )
            .await?
            .into_response()),
    }
}

/// The profile page rendered for a fixed user with no session, CSRF or
/// auth layer: the baseline of `bench/http.sh`.
async fn baseline_profile(State(auth): State<auth::Auth<User>>) -> auth::Result<Html<String>> {
    let context = auth::minijinja::context! {
        user => auth::minijinja::context! { is_authenticated => true, username => "bench" },
        bio => "Benchmarking.",
        csrf_input => auth::minijinja::Value::from_safe_string(
            "<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"x\">".into(),
        ),
    };
    auth.render_template("accounts/profile.html", context)
        .map(Html)
}

/// Where the benchmark baseline is served when `ACCOUNTS_BENCH_BASELINE=1`.
pub const BASELINE: &str = "/__bench/profile/";

/// The whole app, with `/metrics`; with `ACCOUNTS_BENCH_BASELINE=1` also
/// the benchmark's baseline route, outside the auth layer.
pub fn app(auth: &auth::Auth<User>) -> Router {
    // Prometheus' scrape target, behind `AUTH_METRICS_TOKEN` (a 404
    // without it), outside the session layer: a scrape makes no session.
    let app = site(auth).merge(auth.metrics_router("/metrics"));
    if std::env::var("ACCOUNTS_BENCH_BASELINE").as_deref() == Ok("1") {
        return app.merge(
            Router::new()
                .route(BASELINE, get(baseline_profile))
                .with_state(auth.clone()),
        );
    }
    app
}

fn site(auth: &auth::Auth<User>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/profile/", get(profile))
        .route("/reports/", get(reports))
        .route("/staff/", get(staff))
        .route(CUSTOM_LOGIN, get(custom_login_form).post(custom_login))
        .merge(urls::router())
        .with_state(auth.clone())
        .layer(auth.layer())
}
