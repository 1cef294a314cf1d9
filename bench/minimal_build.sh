#!/usr/bin/env bash
# The build of the smallest app on this checkout's runtime (#44 §5): a new
# crate with `auth` at its default features, a derived user model, one
# #[login_required] page and auth_urls! with the login and logout views.
# Cold `cargo build` (a target directory of its own, the registry cached),
# the crates in its normal dependency closure, and which of the optional
# subsystems' crates it builds.
#
#   bench/minimal_build.sh [REV]     # this checkout, or REV (a worktree)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d)
src="$root"
if [ -n "${1:-}" ]; then
  git -C "$root" worktree add --detach -q "$work/src" "$1"
  src="$work/src"
  trap 'git -C "$root" worktree remove --force "$work/src" 2>/dev/null || true' EXIT
fi
package=$(sed -n 's/^name = "\(.*\)"/\1/p' "$src/auth/Cargo.toml" | head -1)
app="$work/minimal"
mkdir -p "$app/src"
cat > "$app/Cargo.toml" <<TOML
[package]
name = "minimal"
version = "0.1.0"
edition = "2024"

[dependencies]
auth = { package = "$package", path = "$src/auth" }
axum = { version = "0.8.9", default-features = false, features = ["http1", "tokio"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread", "net"] }

[profile.dev]
debug = "line-tables-only"
TOML
cat > "$app/src/main.rs" <<'RUST'
#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "minimal_user")]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
}

auth::auth_urls! {
    pub mod urls;
    login: "/login/" => LoginView,
    logout: "/logout/" => LogoutView { next_page: "/" },
}

#[auth::login_required]
async fn home(user: User) -> String {
    format!("Hello, {}!", user.username)
}

#[tokio::main]
async fn main() -> auth::Result<()> {
    let auth = auth::Auth::<User>::builder()
        .database_url("sqlite://minimal.db?mode=rwc")
        .urls(urls::URLCONF)
        .build()
        .await?;
    let app = axum::Router::new()
        .route("/", axum::routing::get(home))
        .merge(urls::router())
        .layer(auth.layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
    auth.serve(listener, app).await
}
RUST
cd "$app"
cargo generate-lockfile -q
start=$(date +%s.%N)
CARGO_TARGET_DIR="$work/target" cargo build -q
end=$(date +%s.%N)
crates=$(cargo tree -e normal --prefix none 2>/dev/null | sed 's/ (\*)$//' | sort -u | wc -l)
locked=$(grep -c '^name = ' Cargo.lock)
printf 'cold build: %.1f s; %d crates in the normal dependency closure, %d in Cargo.lock\n' \
  "$(echo "$end - $start" | bc)" "$crates" "$locked"
for crate in p256 ciborium qrcode woothee metrics-exporter-prometheus fred reqwest clap rpassword tracing-subscriber; do
  if cargo tree -e normal --prefix none 2>/dev/null | grep -q "^$crate v"; then echo "  builds $crate"; fi
done
if cargo tree -e normal -i lettre --prefix none 2>/dev/null | head -1 | grep -q lettre; then
  cargo tree -e features -i lettre 2>/dev/null | grep -q 'smtp-transport' && echo "  builds lettre's SMTP stack"
fi
