//! The reference terminal client (issue 5), filled in by the client work.
