/// A write a durable store makes in the same transaction as the event it is attached to, so
/// that the event and the state it reports are committed together or not at all.
///
/// The stream layer does not know what an attachment means: a store adapter knows the
/// attachments of the domain modules it implements (`LatticeStore` writes a `RunRowWrite` into
/// its runs table) and refuses, with `DurableAppendError.storeFailed`, one it does not know.
public protocol DurableAppendAttachment: Sendable {}
