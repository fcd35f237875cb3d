//! EKS control-plane simulator (being written).
