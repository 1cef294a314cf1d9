//! Runs the notes site, or one of its management commands (the built-in
//! ones and `givekarma`).

use std::{net::SocketAddr, process::ExitCode};

use auth::cli::{CommandError, Management};
use clap::{Arg, ArgMatches, Command};
use notes::Member;

async fn serve(auth: auth::Auth<Member>, bind: SocketAddr) -> auth::Result<()> {
    let listener = tokio::net::TcpListener::bind(bind).await?;
    let app = notes::app(&auth).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await?;
    Ok(())
}

/// `givekarma USERNAME POINTS`: adds to a member's karma.
async fn give_karma(auth: auth::Auth<Member>, args: ArgMatches) -> Result<(), CommandError> {
    let username: &String = args.get_one("username").expect("required");
    let points: i32 = *args.get_one("points").expect("required");
    let Some(mut member) = auth.users().get_by_username(username).await? else {
        return Err(CommandError::Usage(format!(
            "user '{username}' does not exist"
        )));
    };
    member.karma += points;
    let member = auth.users().save(member).await?;
    println!("{} now has {} karma.", member.display_name, member.karma);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    Management::new(notes::builder())
        .command(
            Command::new("givekarma")
                .about("Give a member karma points")
                .arg(Arg::new("username").required(true))
                .arg(
                    Arg::new("points")
                        .required(true)
                        .value_parser(clap::value_parser!(i32)),
                ),
            give_karma,
        )
        .run(serve)
        .await
}
