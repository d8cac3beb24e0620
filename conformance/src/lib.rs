//! The confab conformance harness (see issue 4; filled in by its own work).
