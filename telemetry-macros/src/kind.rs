//! Which of the two attributes is being expanded: the one fact both the item parser (for
//! its messages) and the code generator (for the event's category) need.

/// Which attribute is being expanded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[tracked_command]`.
    Command,
    /// `#[tracked_step]`.
    Step,
}

impl Kind {
    /// The attribute as written in messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Command => "`#[tracked_command]`",
            Kind::Step => "`#[tracked_step]`",
        }
    }
}
