//! A moto server on a free loopback port, stopped by its PID on drop.
//! (Filled in by the AWS work: see `Moto::start`.)
