// The `tensorboard.Event` messages an event file holds, encoded by field number. Numbers and types are those of
// TensorBoard's own schema (tensorboard/compat/proto/event.proto and summary.proto, the same as TensorFlow's):
//   Event      { double wall_time = 1; int64 step = 2; oneof { string file_version = 3; Summary summary = 5;
//                SessionLog session_log = 7; … } }
//   Summary    { repeated Value value = 1; }
//   Value      { string tag = 1; oneof { float simple_value = 2; Image image = 4; … } }
//   Image      { int32 height = 1; int32 width = 2; int32 colorspace = 3; bytes encoded_image_string = 4; }
//   SessionLog { SessionStatus status = 1; }   with START = 1
// Proto3 leaves fields at their default (0, "") off the wire; writing them anyway is equally valid.

enum TensorBoardEvent {
    /// What an event carries besides its time and step.
    enum Content {
        /// The first record of every file; "brain.Event:2" is what current writers (PyTorch's included) put there.
        case fileVersion(String)
        case scalar(tag: String, value: Float)
        /// `colorspace` is the channel count: 1 gray, 3 RGB, 4 RGBA.
        case image(tag: String, png: [UInt8], width: Int32, height: Int32, colorspace: Int32)
        /// A session (re)start at `step`: TensorBoard drops what earlier files of the folder logged at this step
        /// and later, as when a run resumes from a checkpoint older than its last logged step.
        case sessionStart
    }

    /// The serialised `Event` message.
    static func encoded(_ content: Content, step: Int64, wallTime: Double) -> [UInt8] {
        var event = ProtobufEncoder()
        event.append(field: 1, double: wallTime)
        event.append(field: 2, int64: step)
        switch content {
        case let .fileVersion(version):
            event.append(field: 3, string: version)
        case let .scalar(tag, number):
            var value = summaryValue(tag: tag)
            value.append(field: 2, float: number)
            event.append(field: 5, message: summary(value))
        case let .image(tag, png, width, height, colorspace):
            var image = ProtobufEncoder()
            image.append(field: 1, int64: Int64(height))
            image.append(field: 2, int64: Int64(width))
            image.append(field: 3, int64: Int64(colorspace))
            image.append(field: 4, bytes: png)
            var value = summaryValue(tag: tag)
            value.append(field: 4, message: image)
            event.append(field: 5, message: summary(value))
        case .sessionStart:
            var log = ProtobufEncoder()
            log.append(field: 1, int64: 1)
            event.append(field: 7, message: log)
        }
        return event.bytes
    }

    private static func summaryValue(tag: String) -> ProtobufEncoder {
        var value = ProtobufEncoder()
        value.append(field: 1, string: tag)
        return value
    }

    /// A `Summary` holding one value.
    private static func summary(_ value: ProtobufEncoder) -> ProtobufEncoder {
        var summary = ProtobufEncoder()
        summary.append(field: 1, message: value)
        return summary
    }
}
