//! berth: the command-line client of berthd, with docker's verbs, flags, output and exit
//! codes. It only talks to the daemon; see `berth-api` for the wire types.

mod attach;
mod cli;
mod cli_groups;
mod cli_images;
mod cli_objects;
mod cli_ops;
mod client;
mod commands;
mod format;
mod interactive;
mod stream_body;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{BuilderCommand, Cli, Command, ContainerCommand, ImageCommand, SystemCommand};
use crate::client::Client;
use crate::commands::run::RunError;
use crate::commands::{
    build, containers, disk, distribution, error_line, events, exec, filesystem, groups, images,
    inspect, list, network, ops, run, system, volume,
};

async fn dispatch(client: &Client, command: &Command) -> anyhow::Result<i32> {
    match command {
        Command::Run(a) => run::run(client, a).await,
        Command::Create(a) => run::create(client, a).await,
        Command::Start(a) => containers::start(client, a).await,
        Command::Attach(a) => exec::attach(client, a).await,
        Command::Exec(a) => exec::exec(client, a).await,
        Command::Stop(a) => containers::stop(client, a).await,
        Command::Kill(a) => containers::kill(client, a).await,
        Command::Restart(a) => containers::restart(client, a).await,
        Command::Rm(a) => containers::rm(client, a).await,
        Command::Ps(a) => list::ps(client, a).await,
        Command::Logs(a) => containers::logs(client, a).await,
        Command::Wait(a) => containers::wait(client, a).await,
        Command::Inspect(a) => inspect::inspect(client, a).await,
        Command::Images(a) => images::images(client, a).await,
        Command::Build(a) => build::build(client, a).await,
        Command::Import(a) => images::import(client, a).await,
        Command::Tag(a) => images::tag(client, a).await,
        Command::Rmi(a) => images::rmi(client, a).await,
        Command::Version(a) => system::version(client, a.format.as_deref()).await,
        Command::Info(a) => system::info(client, a.format.as_deref()).await,
        Command::Events(a) => events::events(client, a).await,
        Command::Pull(a) => distribution::pull(client, a).await,
        Command::Push(a) => distribution::push(client, a).await,
        Command::Save(a) => distribution::save(client, a).await,
        Command::Load(a) => distribution::load(client, a).await,
        Command::Login(a) => distribution::login(client, a).await,
        Command::Logout(a) => distribution::logout(client, a).await,
        Command::Image(ImageCommand::Prune(a)) => disk::image_prune(client, a).await,
        Command::System(SystemCommand::Df(a)) => disk::system_df(client, a).await,
        Command::Container(ContainerCommand::Prune(a)) => ops::prune(client, a).await,
        Command::Port(a) => network::port(client, a).await,
        Command::Network(a) => network::network(client, a).await,
        Command::Volume(a) => volume::volume(client, a).await,
        Command::Diff(a) => filesystem::diff(client, &a.container).await,
        Command::Export(a) => filesystem::export(client, &a.container, a.output.as_deref()).await,
        Command::History(a) => {
            filesystem::history(client, &a.image, a.no_trunc, a.quiet, a.format.as_deref()).await
        }
        Command::Commit(a) => {
            filesystem::commit(
                client,
                filesystem::CommitArgs {
                    author: a.author.clone(),
                    change: a.change.clone(),
                    message: a.message.clone(),
                    pause: a.pause,
                    container: a.container.clone(),
                    repository: a.repository.clone(),
                },
            )
            .await
        }
        Command::Cp(a) => filesystem::cp(client, &a.src, &a.dst, a.archive, a.follow_link).await,
        Command::Search(a) => groups::search(client, a).await,
        Command::System(SystemCommand::Prune(a)) => groups::system_prune(client, a).await,
        Command::Builder(BuilderCommand::Prune(a)) => groups::builder_prune(client, a).await,
        Command::Checkpoint(c) => groups::checkpoint(client, c).await,
        Command::Completion(a) => groups::completion(a),
        Command::Man(a) => groups::man(a),
        // `groups::shortcut` has turned every other group subcommand into its verb.
        Command::Container(_) | Command::Image(_) | Command::System(_) => {
            anyhow::bail!("unreachable group command")
        }
        Command::Pause(a) => ops::pause(client, a, "pause").await,
        Command::Unpause(a) => ops::pause(client, a, "unpause").await,
        Command::Top(a) => ops::top(client, a).await,
        Command::Stats(a) => ops::stats(client, a).await,
        Command::Update(a) => ops::update(client, a).await,
        Command::Rename(a) => ops::rename(client, a).await,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            // docker exits 125 for bad flags of run/create, 1 otherwise; 0 for --help.
            return ExitCode::from(match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ if std::env::args()
                    .nth(1)
                    .is_some_and(|a| a == "run" || a == "create") =>
                {
                    125
                }
                _ => 1,
            });
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: start runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let command = groups::shortcut(cli.command);
    let code = rt.block_on(async {
        let client = Client::new(&cli.host)?;
        dispatch(&client, &command).await
    });
    match code {
        Ok(c) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        Err(e) => {
            let code = e.downcast_ref::<RunError>().map_or(1, |r| r.code);
            let shown = match e.downcast::<RunError>() {
                Ok(r) => r.source,
                Err(e) => e,
            };
            eprintln!("{}", error_line(&shown));
            ExitCode::from(u8::try_from(code).unwrap_or(1))
        }
    }
}
