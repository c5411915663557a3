#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Unpredictable masking keys for client frames (RFC 6455 §5.3 requires a
/// fresh key per frame from a strong source). Keys come from the kernel's
/// CSPRNG in batches of 128 so a busy client makes one syscall per 128 frames.
struct MaskKeyGenerator {
    private var pool = [UInt32](repeating: 0, count: 128)
    private var next = 128

    mutating func key() -> WebSocketMaskKey {
        if next == pool.count {
            refill()
            next = 0
        }
        defer { next += 1 }
        return WebSocketMaskKey(pool[next])
    }

    private mutating func refill() {
        pool.withUnsafeMutableBytes { bytes in
            #if canImport(Darwin)
            arc4random_buf(bytes.baseAddress!, bytes.count)
            #else
            var filled = 0
            while filled < bytes.count {
                let n = read(Self.urandom, bytes.baseAddress! + filled, bytes.count - filled)
                precondition(n > 0 || errno == EINTR, "cannot read /dev/urandom")
                if n > 0 { filled += n }
            }
            #endif
        }
    }

    #if !canImport(Darwin)
    /// Opened once per process; reading it never blocks once the kernel's pool is seeded.
    private static let urandom: Int32 = {
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        precondition(fd >= 0, "cannot open /dev/urandom")
        return fd
    }()
    #endif
}
