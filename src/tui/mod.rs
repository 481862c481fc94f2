//! The full-screen wizard (being built in this commit series).

pub mod strings;

use crate::project::Project;

pub fn run(project: Project, notice: Option<String>) -> color_eyre::Result<()> {
    let _ = (project, notice);
    color_eyre::eyre::bail!("the wizard is not available yet in this build")
}
