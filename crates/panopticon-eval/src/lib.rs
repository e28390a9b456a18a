//! Panopticon evaluation: frozen-feature kNN and linear probes with the paper's metrics
//! (in progress).
