//! The service's deliverable reports, built from the project and the live views and rendered as text. Pure: the
//! caller reads the project and writes the file. The migration report is in [`migration`], its renderers
//! (Markdown, HTML, CSV, JSON) in [`render`]; the closeout report and its renderers in [`closeout`]; the batch as
//! `cutover status` shows it in [`live`].

pub mod closeout;
pub mod live;
pub mod migration;
pub mod render;
