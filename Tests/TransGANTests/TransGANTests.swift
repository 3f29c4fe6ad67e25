// All TransGAN tests run one at a time: the resume test compares losses bit for bit, and OpenBLAS called
// from several threads at once does not always round identically (observed: 1e-8 relative drift).
import Testing

@Suite(.serialized) struct TransGANTests {}
