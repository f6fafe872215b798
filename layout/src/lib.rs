//! `layout`: pure placement (skeleton; being built).
