//! Stage and crew tests, compiled into one test binary.

mod common;
mod compliance;
mod crew;
mod quality;
mod researcher;
mod scheduler;
mod scorer;
mod subject;
mod writer;
