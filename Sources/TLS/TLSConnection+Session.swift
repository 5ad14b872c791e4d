internal import COpenSSL

/// What the handshake settled: protocol, cipher, ALPN and the peer's certificate.
///
/// Every property is nil until the handshake completes, and keeps its value after the session
/// closes.
extension TLSConnection {
    /// The protocol version, as OpenSSL names it: "TLSv1.3" or "TLSv1.2".
    public var negotiatedProtocol: String? {
        guard handshakeCompleted else {
            return nil
        }
        return withPointer { String(cString: SSL_get_version($0)) }
    }

    /// The cipher suite, as OpenSSL names it, for example "TLS_AES_256_GCM_SHA384".
    public var cipher: String? {
        guard handshakeCompleted else {
            return nil
        }
        return withPointer { session in
            guard let cipher = SSL_get_current_cipher(session) else {
                return nil
            }
            return String(cString: SSL_CIPHER_get_name(cipher))
        }
    }

    /// The application protocol chosen through ALPN ("http/1.1"), or nil when none was.
    public var alpn: String? {
        guard handshakeCompleted else {
            return nil
        }
        return withPointer { session in
            var data: UnsafePointer<UInt8>?
            var length: UInt32 = 0
            SSL_get0_alpn_selected(session, &data, &length)
            guard let data, length > 0 else {
                return nil
            }
            let name = UnsafeBufferPointer(start: data, count: Int(length))
            return String(decoding: name, as: UTF8.self)
        }
    }

    /// The certificate the peer presented, or nil when it presented none (a client that had no
    /// certificate, or a server that did not ask for one).
    public var peerCertificate: PeerCertificate? {
        guard handshakeCompleted else {
            return nil
        }
        return withPointer { session in
            guard let certificate = SSL_get0_peer_certificate(session) else {
                return nil
            }
            return PeerCertificate(
                fingerprintSHA256: Self.fingerprint(certificate),
                subject: Self.subject(certificate),
                verified: SSL_get_verify_result(session) == Int(X509_V_OK))
        }
    }

    /// Makes a client session check that the server's certificate names `name`, and sends
    /// `name` as the server name indication unless it is an IP address literal (RFC 6066
    /// forbids those in SNI).
    func expectServer(named name: String) throws(TLSError) {
        try withPointer { (session) throws(TLSError) in
            if X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), name) == 1 {
                return
            }
            // Not an IP address literal: the failed parse leaves nothing worth reporting.
            TLSError.clearOpenSSLQueue()
            guard SSL_set1_host(session, name) == 1,
                phigate_ssl_set_server_name(session, name) == 1
            else {
                throw TLSError.drainingOpenSSLQueue(
                    .configuration, "cannot use \(name) as the expected server name")
            }
        }
    }

    /// The lowercase hexadecimal SHA-256 of the certificate's DER encoding.
    private static func fingerprint(_ certificate: OpaquePointer) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let digested = X509_digest(certificate, EVP_sha256(), &digest, &length)
        // Hashing a certificate OpenSSL has already parsed fails only when memory runs out.
        precondition(digested == 1, "X509_digest failed on a parsed certificate")
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(Int(length) * 2)
        for byte in digest[0..<Int(length)] {
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The certificate's subject as an RFC 2253 string.
    private static func subject(_ certificate: OpaquePointer) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else {
            fatalError("BIO_new: out of memory")
        }
        defer { BIO_free(bio) }
        let printed = phigate_x509_name_print_rfc2253(bio, X509_get_subject_name(certificate))
        precondition(printed >= 0, "X509_NAME_print_ex failed on a parsed certificate")
        let length = Int(BIO_ctrl_pending(bio))
        var text = [UInt8](repeating: 0, count: length)
        if length > 0 {
            let read = text.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(length)) }
            precondition(read == Int32(length), "memory BIO returned less than pending")
        }
        return String(decoding: text, as: UTF8.self)
    }
}
