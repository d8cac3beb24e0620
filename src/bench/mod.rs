//! The load generator behind `confab-bench` (issue 6), filled in by the benchmark work.
