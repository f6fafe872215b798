//! The common NFSv4 types (RFC 8881 §3, RFC 7530 §2): status codes,
//! operation numbers, `bitmap4`, stateids, owners, the OPEN/LOCK unions,
//! SECINFO and the 4.1 session and client-id types.

use super::{
    ARRAY_DECODE_MAX, ATTRLIST_DECODE_MAX_BYTES, BITMAP4_DECODE_MAX_WORDS, DATA_DECODE_MAX_BYTES,
    LINKTEXT_DECODE_MAX_BYTES, NAME_DECODE_MAX_BYTES, NFS4_FHSIZE, NFS4_OPAQUE_LIMIT,
    NFS4_OTHER_SIZE, NFS4_SESSIONID_SIZE, NFS4_VERIFIER_SIZE, OPAQUE_DECODE_MAX_BYTES,
    TAG_DECODE_MAX_BYTES,
};
use crate::rpc::{AuthSys, AUTH_NONE, AUTH_SYS, RPCSEC_GSS};
use crate::xdr::{
    decode_array, encode_array, opaque_len, xdr_enum, xdr_struct, Decoder, Encoder, XdrDecode,
    XdrEncode, XdrError,
};

xdr_enum! {
    /// Every status of RFC 8881 §15 and RFC 7862 §11 (and the two of the
    /// xattr extension, RFC 8276). `NFS4ERR_RESOURCE` is 4.0 only.
    ///
    /// ```text
    /// enum nfsstat4 {
    ///  NFS4_OK                = 0,    /* everything is okay      */
    ///  NFS4ERR_PERM           = 1,    /* caller not privileged   */
    ///  NFS4ERR_NOENT          = 2,    /* no such file/directory  */
    ///  NFS4ERR_IO             = 5,    /* hard I/O error          */
    ///  NFS4ERR_NXIO           = 6,    /* no such device          */
    ///  NFS4ERR_ACCESS         = 13,   /* access denied           */
    ///  NFS4ERR_EXIST          = 17,   /* file already exists     */
    ///  NFS4ERR_XDEV           = 18,   /* different filesystems   */
    ///  NFS4ERR_NOTDIR         = 20,   /* should be a directory   */
    ///  NFS4ERR_ISDIR          = 21,   /* should not be directory */
    ///  NFS4ERR_INVAL          = 22,   /* invalid argument        */
    ///  NFS4ERR_FBIG           = 27,   /* file exceeds server max */
    ///  NFS4ERR_NOSPC          = 28,   /* no space on filesystem  */
    ///  NFS4ERR_ROFS           = 30,   /* read-only filesystem    */
    ///  NFS4ERR_MLINK          = 31,   /* too many hard links     */
    ///  NFS4ERR_NAMETOOLONG    = 63,   /* name exceeds server max */
    ///  NFS4ERR_NOTEMPTY       = 66,   /* directory not empty     */
    ///  NFS4ERR_DQUOT          = 69,   /* hard quota limit reached*/
    ///  NFS4ERR_STALE          = 70,   /* file no longer exists   */
    ///  NFS4ERR_BADHANDLE      = 10001,/* Illegal filehandle      */
    ///  NFS4ERR_BAD_COOKIE     = 10003,/* READDIR cookie is stale */
    ///  NFS4ERR_NOTSUPP        = 10004,/* operation not supported */
    ///  NFS4ERR_TOOSMALL       = 10005,/* response limit exceeded */
    ///  NFS4ERR_SERVERFAULT    = 10006,/* undefined server error  */
    ///  NFS4ERR_BADTYPE        = 10007,/* type invalid for CREATE */
    ///  NFS4ERR_DELAY          = 10008,/* file "busy" - retry     */
    ///  NFS4ERR_SAME           = 10009,/* nverify says attrs same */
    ///  NFS4ERR_DENIED         = 10010,/* lock unavailable        */
    ///  NFS4ERR_EXPIRED        = 10011,/* lock lease expired      */
    ///  NFS4ERR_LOCKED         = 10012,/* I/O failed due to lock  */
    ///  NFS4ERR_GRACE          = 10013,/* in grace period         */
    ///  NFS4ERR_FHEXPIRED      = 10014,/* filehandle expired      */
    ///  NFS4ERR_SHARE_DENIED   = 10015,/* share reserve denied    */
    ///  NFS4ERR_WRONGSEC       = 10016,/* wrong security flavor   */
    ///  NFS4ERR_CLID_INUSE     = 10017,/* clientid in use         */
    ///  NFS4ERR_RESOURCE       = 10018,/* resource exhaustion     */
    ///  NFS4ERR_MOVED          = 10019,/* filesystem relocated    */
    ///  NFS4ERR_NOFILEHANDLE   = 10020,/* current FH is not set   */
    ///  NFS4ERR_MINOR_VERS_MISMATCH= 10021,/* minor vers not supp */
    ///  NFS4ERR_STALE_CLIENTID = 10022,/* server has rebooted     */
    ///  NFS4ERR_STALE_STATEID  = 10023,/* server has rebooted     */
    ///  NFS4ERR_OLD_STATEID    = 10024,/* state is out of sync    */
    ///  NFS4ERR_BAD_STATEID    = 10025,/* incorrect stateid       */
    ///  NFS4ERR_BAD_SEQID      = 10026,/* request is out of seq.  */
    ///  NFS4ERR_NOT_SAME       = 10027,/* verify - attrs not same */
    ///  NFS4ERR_LOCK_RANGE     = 10028,/* overlapping lock range  */
    ///  NFS4ERR_SYMLINK        = 10029,/* should be file/directory*/
    ///  NFS4ERR_RESTOREFH      = 10030,/* no saved filehandle     */
    ///  NFS4ERR_LEASE_MOVED    = 10031,/* some filesystem moved   */
    ///  NFS4ERR_ATTRNOTSUPP    = 10032,/* recommended attr not sup*/
    ///  NFS4ERR_NO_GRACE       = 10033,/* reclaim outside of grace*/
    ///  NFS4ERR_RECLAIM_BAD    = 10034,/* reclaim error at server */
    ///  NFS4ERR_RECLAIM_CONFLICT= 10035,/* conflict on reclaim    */
    ///  NFS4ERR_BADXDR         = 10036,/* XDR decode failed       */
    ///  NFS4ERR_LOCKS_HELD     = 10037,/* file locks held at CLOSE*/
    ///  NFS4ERR_OPENMODE       = 10038,/* conflict in OPEN and I/O*/
    ///  NFS4ERR_BADOWNER       = 10039,/* owner translation bad   */
    ///  NFS4ERR_BADCHAR        = 10040,/* utf-8 char not supported*/
    ///  NFS4ERR_BADNAME        = 10041,/* name not supported      */
    ///  NFS4ERR_BAD_RANGE      = 10042,/* lock range not supported*/
    ///  NFS4ERR_LOCK_NOTSUPP   = 10043,/* no atomic up/downgrade  */
    ///  NFS4ERR_OP_ILLEGAL     = 10044,/* undefined operation     */
    ///  NFS4ERR_DEADLOCK       = 10045,/* file locking deadlock   */
    ///  NFS4ERR_FILE_OPEN      = 10046,/* open file blocks op.    */
    ///  NFS4ERR_ADMIN_REVOKED  = 10047,/* lockowner state revoked */
    ///  NFS4ERR_CB_PATH_DOWN   = 10048,/* callback path down      */
    ///  NFS4ERR_BADIOMODE      = 10049,
    ///  NFS4ERR_BADLAYOUT      = 10050,
    ///  NFS4ERR_BAD_SESSION_DIGEST = 10051,
    ///  NFS4ERR_BADSESSION     = 10052,
    ///  NFS4ERR_BADSLOT        = 10053,
    ///  NFS4ERR_COMPLETE_ALREADY = 10054,
    ///  NFS4ERR_CONN_NOT_BOUND_TO_SESSION = 10055,
    ///  NFS4ERR_DELEG_ALREADY_WANTED = 10056,
    ///  NFS4ERR_BACK_CHAN_BUSY = 10057,/*backchan reqs outstanding*/
    ///  NFS4ERR_LAYOUTTRYLATER = 10058,
    ///  NFS4ERR_LAYOUTUNAVAILABLE = 10059,
    ///  NFS4ERR_NOMATCHING_LAYOUT = 10060,
    ///  NFS4ERR_RECALLCONFLICT = 10061,
    ///  NFS4ERR_UNKNOWN_LAYOUTTYPE = 10062,
    ///  NFS4ERR_SEQ_MISORDERED = 10063,/* unexpected seq.ID in req*/
    ///  NFS4ERR_SEQUENCE_POS   = 10064,/* [CB_]SEQ. op not 1st op */
    ///  NFS4ERR_REQ_TOO_BIG    = 10065,/* request too big         */
    ///  NFS4ERR_REP_TOO_BIG    = 10066,/* reply too big           */
    ///  NFS4ERR_REP_TOO_BIG_TO_CACHE =10067,/* rep. not all cached*/
    ///  NFS4ERR_RETRY_UNCACHED_REP =10068,/* retry + rep. uncached*/
    ///  NFS4ERR_UNSAFE_COMPOUND =10069,/* retry/recovery too hard */
    ///  NFS4ERR_TOO_MANY_OPS   = 10070,/*too many ops in [CB_]COMP*/
    ///  NFS4ERR_OP_NOT_IN_SESSION =10071,/* op needs [CB_]SEQ. op */
    ///  NFS4ERR_HASH_ALG_UNSUPP = 10072, /* hash alg. not supp.   */
    ///                                 /* Error 10073 is unused.  */
    ///  NFS4ERR_CLIENTID_BUSY  = 10074,/* clientid has state      */
    ///  NFS4ERR_PNFS_IO_HOLE   = 10075,/* IO to _SPARSE file hole */
    ///  NFS4ERR_SEQ_FALSE_RETRY= 10076,/* Retry != original req.  */
    ///  NFS4ERR_BAD_HIGH_SLOT  = 10077,/* req has bad highest_slot*/
    ///  NFS4ERR_DEADSESSION    = 10078,/*new req sent to dead sess*/
    ///  NFS4ERR_ENCR_ALG_UNSUPP= 10079,/* encr alg. not supp.     */
    ///  NFS4ERR_PNFS_NO_LAYOUT = 10080,/* I/O without a layout    */
    ///  NFS4ERR_NOT_ONLY_OP    = 10081,/* addl ops not allowed    */
    ///  NFS4ERR_WRONG_CRED     = 10082,/* op done by wrong cred   */
    ///  NFS4ERR_WRONG_TYPE     = 10083,/* op on wrong type object */
    ///  NFS4ERR_DIRDELEG_UNAVAIL=10084,/* delegation not avail.   */
    ///  NFS4ERR_REJECT_DELEG   = 10085,/* cb rejected delegation  */
    ///  NFS4ERR_RETURNCONFLICT = 10086,/* layout get before return*/
    ///  NFS4ERR_DELEG_REVOKED  = 10087,/* deleg./layout revoked   */
    ///  NFS4ERR_PARTNER_NOTSUPP= 10088,/* s2s not supported       */
    ///  NFS4ERR_PARTNER_NO_AUTH= 10089,/* s2s not authorized      */
    ///  NFS4ERR_UNION_NOTSUPP  = 10090,/* Arm of union not supp   */
    ///  NFS4ERR_OFFLOAD_DENIED = 10091,/* dest not allowing copy  */
    ///  NFS4ERR_WRONG_LFS      = 10092,/* LFS not supported       */
    ///  NFS4ERR_BADLABEL       = 10093,/* incorrect label         */
    ///  NFS4ERR_OFFLOAD_NO_REQS= 10094,/* dest not meeting reqs   */
    ///  NFS4ERR_NOXATTR        = 10095,/* xattr does not exist    */
    ///  NFS4ERR_XATTR2BIG      = 10096 /* xattr value is too big  */
    /// };
    /// ```
    pub enum Nfsstat4 as "nfsstat4" {
        /// `NFS4_OK`.
        Ok = 0,
        /// `NFS4ERR_PERM`.
        Perm = 1,
        /// `NFS4ERR_NOENT`.
        Noent = 2,
        /// `NFS4ERR_IO`.
        Io = 5,
        /// `NFS4ERR_NXIO`.
        Nxio = 6,
        /// `NFS4ERR_ACCESS`.
        Access = 13,
        /// `NFS4ERR_EXIST`.
        Exist = 17,
        /// `NFS4ERR_XDEV`.
        Xdev = 18,
        /// `NFS4ERR_NOTDIR`.
        Notdir = 20,
        /// `NFS4ERR_ISDIR`.
        Isdir = 21,
        /// `NFS4ERR_INVAL`.
        Inval = 22,
        /// `NFS4ERR_FBIG`.
        Fbig = 27,
        /// `NFS4ERR_NOSPC`.
        Nospc = 28,
        /// `NFS4ERR_ROFS`.
        Rofs = 30,
        /// `NFS4ERR_MLINK`.
        Mlink = 31,
        /// `NFS4ERR_NAMETOOLONG`.
        Nametoolong = 63,
        /// `NFS4ERR_NOTEMPTY`.
        Notempty = 66,
        /// `NFS4ERR_DQUOT`.
        Dquot = 69,
        /// `NFS4ERR_STALE`.
        Stale = 70,
        /// `NFS4ERR_BADHANDLE`.
        Badhandle = 10001,
        /// `NFS4ERR_BAD_COOKIE`.
        BadCookie = 10003,
        /// `NFS4ERR_NOTSUPP`.
        Notsupp = 10004,
        /// `NFS4ERR_TOOSMALL`.
        Toosmall = 10005,
        /// `NFS4ERR_SERVERFAULT`.
        Serverfault = 10006,
        /// `NFS4ERR_BADTYPE`.
        Badtype = 10007,
        /// `NFS4ERR_DELAY`.
        Delay = 10008,
        /// `NFS4ERR_SAME`.
        Same = 10009,
        /// `NFS4ERR_DENIED`.
        Denied = 10010,
        /// `NFS4ERR_EXPIRED`.
        Expired = 10011,
        /// `NFS4ERR_LOCKED`.
        Locked = 10012,
        /// `NFS4ERR_GRACE`.
        Grace = 10013,
        /// `NFS4ERR_FHEXPIRED`.
        Fhexpired = 10014,
        /// `NFS4ERR_SHARE_DENIED`.
        ShareDenied = 10015,
        /// `NFS4ERR_WRONGSEC`.
        Wrongsec = 10016,
        /// `NFS4ERR_CLID_INUSE`.
        ClidInuse = 10017,
        /// `NFS4ERR_RESOURCE` (4.0 only).
        Resource = 10018,
        /// `NFS4ERR_MOVED`.
        Moved = 10019,
        /// `NFS4ERR_NOFILEHANDLE`.
        Nofilehandle = 10020,
        /// `NFS4ERR_MINOR_VERS_MISMATCH`.
        MinorVersMismatch = 10021,
        /// `NFS4ERR_STALE_CLIENTID`.
        StaleClientid = 10022,
        /// `NFS4ERR_STALE_STATEID`.
        StaleStateid = 10023,
        /// `NFS4ERR_OLD_STATEID`.
        OldStateid = 10024,
        /// `NFS4ERR_BAD_STATEID`.
        BadStateid = 10025,
        /// `NFS4ERR_BAD_SEQID`.
        BadSeqid = 10026,
        /// `NFS4ERR_NOT_SAME`.
        NotSame = 10027,
        /// `NFS4ERR_LOCK_RANGE`.
        LockRange = 10028,
        /// `NFS4ERR_SYMLINK`.
        Symlink = 10029,
        /// `NFS4ERR_RESTOREFH`.
        Restorefh = 10030,
        /// `NFS4ERR_LEASE_MOVED`.
        LeaseMoved = 10031,
        /// `NFS4ERR_ATTRNOTSUPP`.
        Attrnotsupp = 10032,
        /// `NFS4ERR_NO_GRACE`.
        NoGrace = 10033,
        /// `NFS4ERR_RECLAIM_BAD`.
        ReclaimBad = 10034,
        /// `NFS4ERR_RECLAIM_CONFLICT`.
        ReclaimConflict = 10035,
        /// `NFS4ERR_BADXDR`.
        Badxdr = 10036,
        /// `NFS4ERR_LOCKS_HELD`.
        LocksHeld = 10037,
        /// `NFS4ERR_OPENMODE`.
        Openmode = 10038,
        /// `NFS4ERR_BADOWNER`.
        Badowner = 10039,
        /// `NFS4ERR_BADCHAR`.
        Badchar = 10040,
        /// `NFS4ERR_BADNAME`.
        Badname = 10041,
        /// `NFS4ERR_BAD_RANGE`.
        BadRange = 10042,
        /// `NFS4ERR_LOCK_NOTSUPP`.
        LockNotsupp = 10043,
        /// `NFS4ERR_OP_ILLEGAL`.
        OpIllegal = 10044,
        /// `NFS4ERR_DEADLOCK`.
        Deadlock = 10045,
        /// `NFS4ERR_FILE_OPEN`.
        FileOpen = 10046,
        /// `NFS4ERR_ADMIN_REVOKED`.
        AdminRevoked = 10047,
        /// `NFS4ERR_CB_PATH_DOWN`.
        CbPathDown = 10048,
        /// `NFS4ERR_BADIOMODE`.
        Badiomode = 10049,
        /// `NFS4ERR_BADLAYOUT`.
        Badlayout = 10050,
        /// `NFS4ERR_BAD_SESSION_DIGEST`.
        BadSessionDigest = 10051,
        /// `NFS4ERR_BADSESSION`.
        Badsession = 10052,
        /// `NFS4ERR_BADSLOT`.
        Badslot = 10053,
        /// `NFS4ERR_COMPLETE_ALREADY`.
        CompleteAlready = 10054,
        /// `NFS4ERR_CONN_NOT_BOUND_TO_SESSION`.
        ConnNotBoundToSession = 10055,
        /// `NFS4ERR_DELEG_ALREADY_WANTED`.
        DelegAlreadyWanted = 10056,
        /// `NFS4ERR_BACK_CHAN_BUSY`.
        BackChanBusy = 10057,
        /// `NFS4ERR_LAYOUTTRYLATER`.
        Layouttrylater = 10058,
        /// `NFS4ERR_LAYOUTUNAVAILABLE`.
        Layoutunavailable = 10059,
        /// `NFS4ERR_NOMATCHING_LAYOUT`.
        NomatchingLayout = 10060,
        /// `NFS4ERR_RECALLCONFLICT`.
        Recallconflict = 10061,
        /// `NFS4ERR_UNKNOWN_LAYOUTTYPE`.
        UnknownLayouttype = 10062,
        /// `NFS4ERR_SEQ_MISORDERED`.
        SeqMisordered = 10063,
        /// `NFS4ERR_SEQUENCE_POS`.
        SequencePos = 10064,
        /// `NFS4ERR_REQ_TOO_BIG`.
        ReqTooBig = 10065,
        /// `NFS4ERR_REP_TOO_BIG`.
        RepTooBig = 10066,
        /// `NFS4ERR_REP_TOO_BIG_TO_CACHE`.
        RepTooBigToCache = 10067,
        /// `NFS4ERR_RETRY_UNCACHED_REP`.
        RetryUncachedRep = 10068,
        /// `NFS4ERR_UNSAFE_COMPOUND`.
        UnsafeCompound = 10069,
        /// `NFS4ERR_TOO_MANY_OPS`.
        TooManyOps = 10070,
        /// `NFS4ERR_OP_NOT_IN_SESSION`.
        OpNotInSession = 10071,
        /// `NFS4ERR_HASH_ALG_UNSUPP`.
        HashAlgUnsupp = 10072,
        /// `NFS4ERR_CLIENTID_BUSY`.
        ClientidBusy = 10074,
        /// `NFS4ERR_PNFS_IO_HOLE`.
        PnfsIoHole = 10075,
        /// `NFS4ERR_SEQ_FALSE_RETRY`.
        SeqFalseRetry = 10076,
        /// `NFS4ERR_BAD_HIGH_SLOT`.
        BadHighSlot = 10077,
        /// `NFS4ERR_DEADSESSION`.
        Deadsession = 10078,
        /// `NFS4ERR_ENCR_ALG_UNSUPP`.
        EncrAlgUnsupp = 10079,
        /// `NFS4ERR_PNFS_NO_LAYOUT`.
        PnfsNoLayout = 10080,
        /// `NFS4ERR_NOT_ONLY_OP`.
        NotOnlyOp = 10081,
        /// `NFS4ERR_WRONG_CRED`.
        WrongCred = 10082,
        /// `NFS4ERR_WRONG_TYPE`.
        WrongType = 10083,
        /// `NFS4ERR_DIRDELEG_UNAVAIL`.
        DirdelegUnavail = 10084,
        /// `NFS4ERR_REJECT_DELEG`.
        RejectDeleg = 10085,
        /// `NFS4ERR_RETURNCONFLICT`.
        Returnconflict = 10086,
        /// `NFS4ERR_DELEG_REVOKED`.
        DelegRevoked = 10087,
        /// `NFS4ERR_PARTNER_NOTSUPP` (4.2).
        PartnerNotsupp = 10088,
        /// `NFS4ERR_PARTNER_NO_AUTH` (4.2).
        PartnerNoAuth = 10089,
        /// `NFS4ERR_UNION_NOTSUPP` (4.2).
        UnionNotsupp = 10090,
        /// `NFS4ERR_OFFLOAD_DENIED` (4.2).
        OffloadDenied = 10091,
        /// `NFS4ERR_WRONG_LFS` (4.2).
        WrongLfs = 10092,
        /// `NFS4ERR_BADLABEL` (4.2).
        Badlabel = 10093,
        /// `NFS4ERR_OFFLOAD_NO_REQS` (4.2).
        OffloadNoReqs = 10094,
        /// `NFS4ERR_NOXATTR` (RFC 8276).
        Noxattr = 10095,
        /// `NFS4ERR_XATTR2BIG` (RFC 8276).
        Xattr2big = 10096,
    }
}

xdr_enum! {
    /// ```text
    /// enum nfs_ftype4 {
    ///         NF4REG  = 1,    /* Regular File */
    ///         NF4DIR  = 2,    /* Directory */
    ///         NF4BLK  = 3,    /* Special File - block device */
    ///         NF4CHR  = 4,    /* Special File - character device */
    ///         NF4LNK  = 5,    /* Symbolic Link */
    ///         NF4SOCK = 6,    /* Special File - socket */
    ///         NF4FIFO = 7,    /* Special File - fifo */
    ///         NF4ATTRDIR
    ///                 = 8,    /* Attribute Directory */
    ///         NF4NAMEDATTR
    ///                 = 9     /* Named Attribute */
    /// };
    /// ```
    pub enum NfsFtype4 as "nfs_ftype4" {
        /// Regular file.
        Reg = 1,
        /// Directory.
        Dir = 2,
        /// Block special device.
        Blk = 3,
        /// Character special device.
        Chr = 4,
        /// Symbolic link.
        Lnk = 5,
        /// Socket.
        Sock = 6,
        /// Named pipe.
        Fifo = 7,
        /// Named-attribute directory.
        Attrdir = 8,
        /// Named attribute.
        Namedattr = 9,
    }
}

xdr_enum! {
    /// Operation numbers of RFC 7530 (3–39), RFC 8881 (40–58), RFC 7862
    /// (59–71) and RFC 8276 (72–75, the 4.2 xattr extension).
    ///
    /// ```text
    /// enum nfs_opnum4 {
    ///  OP_ACCESS              = 3,
    ///  OP_CLOSE               = 4,
    ///  OP_COMMIT              = 5,
    ///  OP_CREATE              = 6,
    ///  OP_DELEGPURGE          = 7,
    ///  OP_DELEGRETURN         = 8,
    ///  OP_GETATTR             = 9,
    ///  OP_GETFH               = 10,
    ///  OP_LINK                = 11,
    ///  OP_LOCK                = 12,
    ///  OP_LOCKT               = 13,
    ///  OP_LOCKU               = 14,
    ///  OP_LOOKUP              = 15,
    ///  OP_LOOKUPP             = 16,
    ///  OP_NVERIFY             = 17,
    ///  OP_OPEN                = 18,
    ///  OP_OPENATTR            = 19,
    ///  OP_OPEN_CONFIRM        = 20, /* Mandatory not-to-implement */
    ///  OP_OPEN_DOWNGRADE      = 21,
    ///  OP_PUTFH               = 22,
    ///  OP_PUTPUBFH            = 23,
    ///  OP_PUTROOTFH           = 24,
    ///  OP_READ                = 25,
    ///  OP_READDIR             = 26,
    ///  OP_READLINK            = 27,
    ///  OP_REMOVE              = 28,
    ///  OP_RENAME              = 29,
    ///  OP_RENEW               = 30, /* Mandatory not-to-implement */
    ///  OP_RESTOREFH           = 31,
    ///  OP_SAVEFH              = 32,
    ///  OP_SECINFO             = 33,
    ///  OP_SETATTR             = 34,
    ///  OP_SETCLIENTID         = 35, /* Mandatory not-to-implement */
    ///  OP_SETCLIENTID_CONFIRM = 36, /* Mandatory not-to-implement */
    ///  OP_VERIFY              = 37,
    ///  OP_WRITE               = 38,
    ///  OP_RELEASE_LOCKOWNER   = 39, /* Mandatory not-to-implement */
    ///  OP_BACKCHANNEL_CTL     = 40,
    ///  OP_BIND_CONN_TO_SESSION = 41,
    ///  OP_EXCHANGE_ID         = 42,
    ///  OP_CREATE_SESSION      = 43,
    ///  OP_DESTROY_SESSION     = 44,
    ///  OP_FREE_STATEID        = 45,
    ///  OP_GET_DIR_DELEGATION  = 46,
    ///  OP_GETDEVICEINFO       = 47,
    ///  OP_GETDEVICELIST       = 48,
    ///  OP_LAYOUTCOMMIT        = 49,
    ///  OP_LAYOUTGET           = 50,
    ///  OP_LAYOUTRETURN        = 51,
    ///  OP_SECINFO_NO_NAME     = 52,
    ///  OP_SEQUENCE            = 53,
    ///  OP_SET_SSV             = 54,
    ///  OP_TEST_STATEID        = 55,
    ///  OP_WANT_DELEGATION     = 56,
    ///  OP_DESTROY_CLIENTID    = 57,
    ///  OP_RECLAIM_COMPLETE    = 58,
    ///  OP_ALLOCATE            = 59,
    ///  OP_COPY                = 60,
    ///  OP_COPY_NOTIFY         = 61,
    ///  OP_DEALLOCATE          = 62,
    ///  OP_IO_ADVISE           = 63,
    ///  OP_LAYOUTERROR         = 64,
    ///  OP_LAYOUTSTATS         = 65,
    ///  OP_OFFLOAD_CANCEL      = 66,
    ///  OP_OFFLOAD_STATUS      = 67,
    ///  OP_READ_PLUS           = 68,
    ///  OP_SEEK                = 69,
    ///  OP_WRITE_SAME          = 70,
    ///  OP_CLONE               = 71,
    ///  OP_GETXATTR            = 72,
    ///  OP_SETXATTR            = 73,
    ///  OP_LISTXATTRS          = 74,
    ///  OP_REMOVEXATTR         = 75,
    ///  OP_ILLEGAL             = 10044
    /// };
    /// ```
    pub enum Opnum4 as "nfs_opnum4" {
        /// `OP_ACCESS`.
        Access = 3,
        /// `OP_CLOSE`.
        Close = 4,
        /// `OP_COMMIT`.
        Commit = 5,
        /// `OP_CREATE`.
        Create = 6,
        /// `OP_DELEGPURGE`.
        Delegpurge = 7,
        /// `OP_DELEGRETURN`.
        Delegreturn = 8,
        /// `OP_GETATTR`.
        Getattr = 9,
        /// `OP_GETFH`.
        Getfh = 10,
        /// `OP_LINK`.
        Link = 11,
        /// `OP_LOCK`.
        Lock = 12,
        /// `OP_LOCKT`.
        Lockt = 13,
        /// `OP_LOCKU`.
        Locku = 14,
        /// `OP_LOOKUP`.
        Lookup = 15,
        /// `OP_LOOKUPP`.
        Lookupp = 16,
        /// `OP_NVERIFY`.
        Nverify = 17,
        /// `OP_OPEN`.
        Open = 18,
        /// `OP_OPENATTR`.
        Openattr = 19,
        /// `OP_OPEN_CONFIRM` (4.0 only).
        OpenConfirm = 20,
        /// `OP_OPEN_DOWNGRADE`.
        OpenDowngrade = 21,
        /// `OP_PUTFH`.
        Putfh = 22,
        /// `OP_PUTPUBFH`.
        Putpubfh = 23,
        /// `OP_PUTROOTFH`.
        Putrootfh = 24,
        /// `OP_READ`.
        Read = 25,
        /// `OP_READDIR`.
        Readdir = 26,
        /// `OP_READLINK`.
        Readlink = 27,
        /// `OP_REMOVE`.
        Remove = 28,
        /// `OP_RENAME`.
        Rename = 29,
        /// `OP_RENEW` (4.0 only).
        Renew = 30,
        /// `OP_RESTOREFH`.
        Restorefh = 31,
        /// `OP_SAVEFH`.
        Savefh = 32,
        /// `OP_SECINFO`.
        Secinfo = 33,
        /// `OP_SETATTR`.
        Setattr = 34,
        /// `OP_SETCLIENTID` (4.0 only).
        Setclientid = 35,
        /// `OP_SETCLIENTID_CONFIRM` (4.0 only).
        SetclientidConfirm = 36,
        /// `OP_VERIFY`.
        Verify = 37,
        /// `OP_WRITE`.
        Write = 38,
        /// `OP_RELEASE_LOCKOWNER` (4.0 only).
        ReleaseLockowner = 39,
        /// `OP_BACKCHANNEL_CTL`.
        BackchannelCtl = 40,
        /// `OP_BIND_CONN_TO_SESSION`.
        BindConnToSession = 41,
        /// `OP_EXCHANGE_ID`.
        ExchangeId = 42,
        /// `OP_CREATE_SESSION`.
        CreateSession = 43,
        /// `OP_DESTROY_SESSION`.
        DestroySession = 44,
        /// `OP_FREE_STATEID`.
        FreeStateid = 45,
        /// `OP_GET_DIR_DELEGATION`.
        GetDirDelegation = 46,
        /// `OP_GETDEVICEINFO`.
        Getdeviceinfo = 47,
        /// `OP_GETDEVICELIST`.
        Getdevicelist = 48,
        /// `OP_LAYOUTCOMMIT`.
        Layoutcommit = 49,
        /// `OP_LAYOUTGET`.
        Layoutget = 50,
        /// `OP_LAYOUTRETURN`.
        Layoutreturn = 51,
        /// `OP_SECINFO_NO_NAME`.
        SecinfoNoName = 52,
        /// `OP_SEQUENCE`.
        Sequence = 53,
        /// `OP_SET_SSV`.
        SetSsv = 54,
        /// `OP_TEST_STATEID`.
        TestStateid = 55,
        /// `OP_WANT_DELEGATION`.
        WantDelegation = 56,
        /// `OP_DESTROY_CLIENTID`.
        DestroyClientid = 57,
        /// `OP_RECLAIM_COMPLETE`.
        ReclaimComplete = 58,
        /// `OP_ALLOCATE`.
        Allocate = 59,
        /// `OP_COPY`.
        Copy = 60,
        /// `OP_COPY_NOTIFY`.
        CopyNotify = 61,
        /// `OP_DEALLOCATE`.
        Deallocate = 62,
        /// `OP_IO_ADVISE`.
        IoAdvise = 63,
        /// `OP_LAYOUTERROR`.
        Layouterror = 64,
        /// `OP_LAYOUTSTATS`.
        Layoutstats = 65,
        /// `OP_OFFLOAD_CANCEL`.
        OffloadCancel = 66,
        /// `OP_OFFLOAD_STATUS`.
        OffloadStatus = 67,
        /// `OP_READ_PLUS`.
        ReadPlus = 68,
        /// `OP_SEEK`.
        Seek = 69,
        /// `OP_WRITE_SAME`.
        WriteSame = 70,
        /// `OP_CLONE`.
        Clone = 71,
        /// `OP_GETXATTR`.
        Getxattr = 72,
        /// `OP_SETXATTR`.
        Setxattr = 73,
        /// `OP_LISTXATTRS`.
        Listxattrs = 74,
        /// `OP_REMOVEXATTR`.
        Removexattr = 75,
        /// `OP_ILLEGAL`: the result opnum of any undefined operation.
        Illegal = 10044,
    }
}

impl Opnum4 {
    /// The lowest minor version defining this operation (0 for 3–39, 1 for
    /// 40–58, 2 for 59–75). [`Opnum4::Illegal`] is in every version.
    pub fn minor_version(self) -> u32 {
        match self as u32 {
            3..=39 | 10044 => 0,
            40..=58 => 1,
            _ => 2,
        }
    }

    /// True for the operations that decode as [`super::ArgOp::NotSupported`]
    /// without their arguments: the server answers them `NFS4ERR_NOTSUPP`.
    pub fn is_not_supported(self) -> bool {
        matches!(
            self,
            Opnum4::Openattr
                | Opnum4::GetDirDelegation
                | Opnum4::Getdeviceinfo
                | Opnum4::Getdevicelist
                | Opnum4::Layoutcommit
                | Opnum4::Layoutget
                | Opnum4::Layoutreturn
                | Opnum4::SetSsv
                | Opnum4::WantDelegation
        ) || (self.minor_version() == 2
            && !matches!(
                self,
                Opnum4::Getxattr | Opnum4::Setxattr | Opnum4::Listxattrs | Opnum4::Removexattr
            ))
    }
}

// ------------------------------------------------------------ codecs

macro_rules! opaque_codec {
    ($(#[$m:meta])* $name:ident, $max:expr) => {
        $(#[$m])*
        pub mod $name {
            use crate::xdr::{Decoder, Encoder, XdrError};
            /// Decode the bytes (copied out of the input).
            pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<u8>, XdrError> {
                Ok(d.opaque($max)?.to_vec())
            }
            /// Encode the bytes.
            pub fn encode(e: &mut Encoder, v: &[u8]) {
                e.put_opaque(v)
            }
        }
    };
}

opaque_codec!(
    /// Codec of `component4` (`typedef utf8str_cs component4;`) as
    /// `Vec<u8>`, bounded by [`NAME_DECODE_MAX_BYTES`](crate::nfs4::NAME_DECODE_MAX_BYTES).
    component4,
    super::NAME_DECODE_MAX_BYTES
);
opaque_codec!(
    /// Codec of `linktext4` (`typedef opaque linktext4<>;`), bounded by
    /// [`LINKTEXT_DECODE_MAX_BYTES`](crate::nfs4::LINKTEXT_DECODE_MAX_BYTES).
    linktext4,
    super::LINKTEXT_DECODE_MAX_BYTES
);
opaque_codec!(
    /// Codec of `utf8string` / `utf8str_cis` / `utf8str_cs` /
    /// `utf8str_mixed` and the other small unbounded opaques, bounded by
    /// [`OPAQUE_DECODE_MAX_BYTES`](crate::nfs4::OPAQUE_DECODE_MAX_BYTES).
    utf8str,
    super::OPAQUE_DECODE_MAX_BYTES
);
opaque_codec!(
    /// Codec of `opaque x<NFS4_OPAQUE_LIMIT>` (client ids, state owners,
    /// server owner and scope).
    opaque_limit,
    super::NFS4_OPAQUE_LIMIT
);
opaque_codec!(
    /// Codec of READ/WRITE `opaque data<>`, bounded by
    /// [`DATA_DECODE_MAX_BYTES`](crate::nfs4::DATA_DECODE_MAX_BYTES).
    data4,
    super::DATA_DECODE_MAX_BYTES
);
opaque_codec!(
    /// Codec of `attrlist4` (`typedef opaque attrlist4<>;`), bounded by
    /// [`ATTRLIST_DECODE_MAX_BYTES`](crate::nfs4::ATTRLIST_DECODE_MAX_BYTES).
    attrlist4,
    super::ATTRLIST_DECODE_MAX_BYTES
);
opaque_codec!(
    /// Codec of the COMPOUND `tag` (`utf8str_cs`), bounded by
    /// [`TAG_DECODE_MAX_BYTES`](crate::nfs4::TAG_DECODE_MAX_BYTES).
    tag4,
    super::TAG_DECODE_MAX_BYTES
);

/// Codec of a list of small opaques (`sec_oid4 x<>`, `gsshandle4_t x<>`):
/// at most [`ARRAY_DECODE_MAX`] items of at most [`OPAQUE_DECODE_MAX_BYTES`].
pub mod opaque_list {
    use crate::xdr::{Decoder, Encoder, XdrError};
    /// Decode the list.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<Vec<u8>>, XdrError> {
        let n = d.array_len(super::ARRAY_DECODE_MAX)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(d.opaque(super::OPAQUE_DECODE_MAX_BYTES)?.to_vec());
        }
        Ok(out)
    }
    /// Encode the list.
    pub fn encode(e: &mut Encoder, v: &[Vec<u8>]) {
        e.put_array_len(v.len());
        for x in v {
            e.put_opaque(x);
        }
    }
}

/// Codec of `pathname4` (`typedef component4 pathname4<>;`): at most
/// [`ARRAY_DECODE_MAX`] components.
pub mod pathname4 {
    use crate::xdr::{Decoder, Encoder, XdrError};
    /// Decode the components.
    pub fn decode(d: &mut Decoder<'_>) -> Result<Vec<Vec<u8>>, XdrError> {
        let n = d.array_len(super::ARRAY_DECODE_MAX)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(super::component4::decode(d)?);
        }
        Ok(out)
    }
    /// Encode the components.
    pub fn encode(e: &mut Encoder, v: &[Vec<u8>]) {
        super::opaque_list::encode(e, v)
    }
}

/// Codec of a counted array of at most one element (`T x<1>`, e.g.
/// `eia_client_impl_id`, `ca_rdma_ird`) as `Option<T>`.
pub mod array1 {
    use crate::xdr::{Decoder, Encoder, XdrDecode, XdrEncode, XdrError};
    /// Decode: a count of 0 or 1, then the element.
    pub fn decode<'a, T: XdrDecode<'a>>(d: &mut Decoder<'a>) -> Result<Option<T>, XdrError> {
        match d.array_len(1)? {
            0 => Ok(None),
            _ => Ok(Some(T::decode(d)?)),
        }
    }
    /// Encode.
    pub fn encode<T: XdrEncode>(e: &mut Encoder, v: &Option<T>) {
        match v {
            Some(x) => {
                e.put_u32(1);
                x.encode(e);
            }
            None => e.put_u32(0),
        }
    }
}

/// Codec of a counted array `T<>` bounded by [`ARRAY_DECODE_MAX`].
pub mod array {
    use crate::xdr::{
        decode_array, encode_array, Decoder, Encoder, XdrDecode, XdrEncode, XdrError,
    };
    /// Decode.
    pub fn decode<'a, T: XdrDecode<'a>>(d: &mut Decoder<'a>) -> Result<Vec<T>, XdrError> {
        decode_array(d, super::ARRAY_DECODE_MAX)
    }
    /// Encode.
    pub fn encode<T: XdrEncode>(e: &mut Encoder, v: &[T]) {
        encode_array(e, v)
    }
}

// ------------------------------------------------------------ bitmap4

/// ```text
/// typedef uint32_t        bitmap4<>;
/// ```
/// Bit `n` is bit `n % 32` of word `n / 32` (RFC 8881 §3.3). At most
/// [`BITMAP4_DECODE_MAX_WORDS`] words on decode. The words are kept as
/// received (trailing zero words included) so that encoding is the identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Bitmap4(pub Vec<u32>);

impl Bitmap4 {
    /// The largest bit number [`Bitmap4::set`] accepts, plus one.
    pub const BITS_MAX: u32 = BITMAP4_DECODE_MAX_WORDS * 32;

    /// An empty bitmap (no words).
    pub fn new() -> Self {
        Bitmap4(Vec::new())
    }

    /// A bitmap with exactly `bits` set, in as few words as needed.
    pub fn from_bits(bits: &[u32]) -> Self {
        let mut b = Bitmap4::new();
        for &n in bits {
            b.set(n);
        }
        b
    }

    /// Whether bit `n` is set.
    pub fn get(&self, n: u32) -> bool {
        self.0.get((n / 32) as usize).is_some_and(|w| w & (1 << (n % 32)) != 0)
    }

    /// Set bit `n`, growing the word vector as needed.
    ///
    /// Panics if `n >= Bitmap4::BITS_MAX` (a programming error: no attribute
    /// or operation number is that large, and every bit of a decoded bitmap
    /// is below it).
    pub fn set(&mut self, n: u32) {
        assert!(n < Self::BITS_MAX, "bitmap4 bit {n} out of range");
        let w = (n / 32) as usize;
        if self.0.len() <= w {
            self.0.resize(w + 1, 0);
        }
        self.0[w] |= 1 << (n % 32);
    }

    /// Clear bit `n` (the word vector does not shrink).
    pub fn clear(&mut self, n: u32) {
        if let Some(w) = self.0.get_mut((n / 32) as usize) {
            *w &= !(1 << (n % 32));
        }
    }

    /// The set bits in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &w)| {
            (0..32u32).filter(move |b| w & (1 << b) != 0).map(move |b| i as u32 * 32 + b)
        })
    }

    /// True when no bit is set (whatever the number of words).
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|&w| w == 0)
    }

    /// The bits set in both.
    pub fn intersection(&self, other: &Bitmap4) -> Bitmap4 {
        let mut v: Vec<u32> = self.0.iter().zip(&other.0).map(|(a, b)| a & b).collect();
        trim(&mut v);
        Bitmap4(v)
    }

    /// The bits set in `self` and not in `other`.
    pub fn difference(&self, other: &Bitmap4) -> Bitmap4 {
        let mut v: Vec<u32> = self
            .0
            .iter()
            .enumerate()
            .map(|(i, a)| a & !other.0.get(i).copied().unwrap_or(0))
            .collect();
        trim(&mut v);
        Bitmap4(v)
    }

    /// True when every bit of `self` is set in `other`.
    pub fn is_subset(&self, other: &Bitmap4) -> bool {
        self.difference(other).is_empty()
    }

    /// Encoded size: the count word and the words.
    pub fn encoded_len(&self) -> usize {
        4 + 4 * self.0.len()
    }
}

fn trim(v: &mut Vec<u32>) {
    while v.last() == Some(&0) {
        v.pop();
    }
}

impl<'a> XdrDecode<'a> for Bitmap4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(Bitmap4(decode_array(d, BITMAP4_DECODE_MAX_WORDS)?))
    }
}
impl XdrEncode for Bitmap4 {
    fn encode(&self, e: &mut Encoder) {
        encode_array(e, &self.0)
    }
}

// ------------------------------------------------------------ basic types

/// `typedef opaque verifier4[NFS4_VERIFIER_SIZE];`
pub type Verifier4 = [u8; NFS4_VERIFIER_SIZE];
/// `typedef opaque sessionid4[NFS4_SESSIONID_SIZE];`
pub type Sessionid4 = [u8; NFS4_SESSIONID_SIZE];
/// `typedef uint64_t clientid4;`
pub type Clientid4 = u64;

xdr_struct! {
    /// ```text
    /// struct nfstime4 {
    ///         int64_t         seconds;
    ///         uint32_t        nseconds;
    /// };
    /// ```
    #[derive(Copy, Default, Hash, PartialOrd, Ord)]
    pub struct Nfstime4 {
        /// Seconds since the epoch (signed).
        pub seconds: i64,
        /// Nanoseconds (the server rejects ≥ 10⁹ with `NFS4ERR_INVAL`).
        pub nseconds: u32,
    }
}

/// How SETATTR / OPEN / CREATE set a time.
///
/// ```text
/// enum time_how4 {
///         SET_TO_SERVER_TIME4 = 0,
///         SET_TO_CLIENT_TIME4 = 1
/// };
///
/// union settime4 switch (time_how4 set_it) {
///  case SET_TO_CLIENT_TIME4:
///          nfstime4       time;
///  default:
///          void;
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Settime4 {
    /// `SET_TO_SERVER_TIME4`.
    ServerTime,
    /// `SET_TO_CLIENT_TIME4`.
    ClientTime(Nfstime4),
}

impl<'a> XdrDecode<'a> for Settime4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(Settime4::ServerTime),
            1 => Ok(Settime4::ClientTime(Nfstime4::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "time_how4", value }),
        }
    }
}
impl XdrEncode for Settime4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Settime4::ServerTime => e.put_u32(0),
            Settime4::ClientTime(t) => {
                e.put_u32(1);
                t.encode(e);
            }
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct fsid4 {
    ///         uint64_t        major;
    ///         uint64_t        minor;
    /// };
    /// ```
    #[derive(Copy, Default, Hash, PartialOrd, Ord)]
    pub struct Fsid4 {
        /// Major number.
        pub major: u64,
        /// Minor number.
        pub minor: u64,
    }
}

xdr_struct! {
    /// ```text
    /// struct specdata4 {
    ///  uint32_t specdata1; /* major device number */
    ///  uint32_t specdata2; /* minor device number */
    /// };
    /// ```
    #[derive(Copy, Default, Hash, PartialOrd, Ord)]
    pub struct Specdata4 {
        /// Major device number.
        pub specdata1: u32,
        /// Minor device number.
        pub specdata2: u32,
    }
}

xdr_struct! {
    /// ```text
    /// struct stateid4 {
    ///         uint32_t        seqid;
    ///         opaque          other[NFS4_OTHER_SIZE];
    /// };
    /// ```
    /// The special stateids of RFC 8881 §8.2.3 are associated constants.
    #[derive(Copy, Default, Hash, PartialOrd, Ord)]
    pub struct Stateid4 {
        /// Sequence number of the state's changes.
        pub seqid: u32,
        /// Server-chosen identity of the state.
        pub other: [u8; NFS4_OTHER_SIZE],
    }
}

impl Stateid4 {
    /// The anonymous stateid: `seqid` 0, `other` all zero.
    pub const ANONYMOUS: Stateid4 = Stateid4 { seqid: 0, other: [0; NFS4_OTHER_SIZE] };
    /// The READ bypass stateid: `seqid` and `other` all ones.
    pub const READ_BYPASS: Stateid4 = Stateid4 { seqid: u32::MAX, other: [0xff; NFS4_OTHER_SIZE] };
    /// The current stateid (4.1): `seqid` 1, `other` all zero.
    pub const CURRENT: Stateid4 = Stateid4 { seqid: 1, other: [0; NFS4_OTHER_SIZE] };
    /// The invalid stateid (4.1): `seqid` all ones, `other` all zero.
    pub const INVALID: Stateid4 = Stateid4 { seqid: u32::MAX, other: [0; NFS4_OTHER_SIZE] };
}

xdr_struct! {
    /// ```text
    /// struct change_info4 {
    ///         bool            atomic;
    ///         changeid4       before;
    ///         changeid4       after;
    /// };
    /// ```
    #[derive(Copy, Default, Hash)]
    pub struct ChangeInfo4 {
        /// `before` and `after` were read atomically with the change.
        pub atomic: bool,
        /// Directory change attribute before the operation.
        pub before: u64,
        /// Directory change attribute after the operation.
        pub after: u64,
    }
}

/// ```text
/// typedef opaque  nfs_fh4<NFS4_FHSIZE>;
/// ```
/// At most [`NFS4_FHSIZE`] bytes; a longer one is a decode error
/// (`NFS4ERR_BADXDR`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NfsFh4(pub Vec<u8>);

impl<'a> XdrDecode<'a> for NfsFh4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(NfsFh4(d.opaque(NFS4_FHSIZE)?.to_vec()))
    }
}
impl XdrEncode for NfsFh4 {
    fn encode(&self, e: &mut Encoder) {
        e.put_opaque(&self.0)
    }
}

xdr_struct! {
    /// ```text
    /// typedef opaque  attrlist4<>;
    ///
    /// struct fattr4 {
    ///         bitmap4         attrmask;
    ///         attrlist4       attr_vals;
    /// };
    /// ```
    /// The values of the attributes named in `attrmask`, in ascending
    /// attribute-number order, packed; see [`super::attr::Fattr`] to build
    /// and read them.
    #[derive(Default, Hash)]
    pub struct Fattr4 {
        /// Which attributes follow.
        pub attrmask: Bitmap4,
        /// Their XDR encodings, concatenated (≤ [`ATTRLIST_DECODE_MAX_BYTES`]).
        pub attr_vals: Vec<u8> [attrlist4],
    }
}

impl Fattr4 {
    /// Encoded size.
    pub fn encoded_len(&self) -> usize {
        self.attrmask.encoded_len() + opaque_len(self.attr_vals.len())
    }
}

xdr_struct! {
    /// ```text
    /// struct nfs_client_id4 {
    ///         verifier4       verifier;
    ///         opaque          id<NFS4_OPAQUE_LIMIT>;
    /// };
    /// ```
    /// (4.0 SETCLIENTID.)
    pub struct NfsClientId4 {
        /// Client incarnation verifier.
        pub verifier: Verifier4,
        /// Client identity.
        pub id: Vec<u8> [opaque_limit],
    }
}

xdr_struct! {
    /// ```text
    /// struct client_owner4 {
    ///         verifier4       co_verifier;
    ///         opaque          co_ownerid<NFS4_OPAQUE_LIMIT>;
    /// };
    /// ```
    /// (4.1 EXCHANGE_ID.)
    pub struct ClientOwner4 {
        /// Client incarnation verifier.
        pub co_verifier: Verifier4,
        /// Client identity.
        pub co_ownerid: Vec<u8> [opaque_limit],
    }
}

xdr_struct! {
    /// ```text
    /// struct server_owner4 {
    ///  uint64_t       so_minor_id;
    ///  opaque         so_major_id<NFS4_OPAQUE_LIMIT>;
    /// };
    /// ```
    pub struct ServerOwner4 {
        /// Distinguishes servers sharing a major id (session trunking).
        pub so_minor_id: u64,
        /// Server identity (client-id trunking).
        pub so_major_id: Vec<u8> [opaque_limit],
    }
}

xdr_struct! {
    /// ```text
    /// struct state_owner4 {
    ///         clientid4       clientid;
    ///         opaque          owner<NFS4_OPAQUE_LIMIT>;
    /// };
    ///
    /// typedef state_owner4 open_owner4;
    /// typedef state_owner4 lock_owner4;
    /// ```
    #[derive(Default, Hash, PartialOrd, Ord)]
    pub struct StateOwner4 {
        /// The client.
        pub clientid: Clientid4,
        /// The owner, opaque to the server.
        pub owner: Vec<u8> [opaque_limit],
    }
}

/// `typedef state_owner4 open_owner4;`
pub type OpenOwner4 = StateOwner4;
/// `typedef state_owner4 lock_owner4;`
pub type LockOwner4 = StateOwner4;

xdr_struct! {
    /// ```text
    /// struct netaddr4 {
    ///         /* see struct rpcb in RFC 1833 */
    ///         string na_r_netid<>;    /* network id */
    ///         string na_r_addr<>;     /* universal address */
    /// };
    ///
    /// typedef netaddr4 clientaddr4;
    /// ```
    pub struct Netaddr4 {
        /// Network id, e.g. `tcp`, `tcp6`.
        pub na_r_netid: Vec<u8> [utf8str],
        /// Universal address, e.g. `192.0.2.1.8.1`.
        pub na_r_addr: Vec<u8> [utf8str],
    }
}

/// `typedef netaddr4 clientaddr4;`
pub type Clientaddr4 = Netaddr4;

xdr_struct! {
    /// ```text
    /// struct cb_client4 {
    ///         uint32_t        cb_program;
    ///         netaddr4        cb_location;
    /// };
    /// ```
    pub struct CbClient4 {
        /// Callback program number.
        pub cb_program: u32,
        /// Callback address.
        pub cb_location: Netaddr4,
    }
}

xdr_struct! {
    /// ```text
    /// struct nfs_impl_id4 {
    ///         utf8str_cis   nii_domain;
    ///         utf8str_cs    nii_name;
    ///         nfstime4      nii_date;
    /// };
    /// ```
    pub struct NfsImplId4 {
        /// DNS domain of the implementer.
        pub nii_domain: Vec<u8> [utf8str],
        /// Product name and version.
        pub nii_name: Vec<u8> [utf8str],
        /// Build date.
        pub nii_date: Nfstime4,
    }
}

xdr_struct! {
    /// ```text
    /// typedef uint32_t        acetype4;
    /// typedef uint32_t        aceflag4;
    /// typedef uint32_t        acemask4;
    ///
    /// struct nfsace4 {
    ///         acetype4        type;
    ///         aceflag4        flag;
    ///         acemask4        access_mask;
    ///         utf8str_mixed   who;
    /// };
    /// ```
    #[derive(Default, Hash)]
    pub struct Nfsace4 {
        /// `type` (a Rust keyword): `ACE4_*_ACE_TYPE`.
        pub type_: u32,
        /// `ACE4_*` flags.
        pub flag: u32,
        /// `ACE4_*` access bits.
        pub access_mask: u32,
        /// `user@domain`, `group@domain` or a special `OWNER@`…; not
        /// interpreted here.
        pub who: Vec<u8> [utf8str],
    }
}

xdr_enum! {
    /// ```text
    /// enum nfs_lock_type4 {
    ///         READ_LT         = 1,
    ///         WRITE_LT        = 2,
    ///         READW_LT        = 3,    /* blocking read */
    ///         WRITEW_LT       = 4     /* blocking write */
    /// };
    /// ```
    pub enum NfsLockType4 as "nfs_lock_type4" {
        /// `READ_LT`.
        Read = 1,
        /// `WRITE_LT`.
        Write = 2,
        /// `READW_LT`: blocking read.
        Readw = 3,
        /// `WRITEW_LT`: blocking write.
        Writew = 4,
    }
}

xdr_enum! {
    /// ```text
    /// enum stable_how4 {
    ///         UNSTABLE4       = 0,
    ///         DATA_SYNC4      = 1,
    ///         FILE_SYNC4      = 2
    /// };
    /// ```
    pub enum StableHow4 as "stable_how4" {
        /// May be cached until COMMIT.
        Unstable = 0,
        /// Data (and the metadata to retrieve it) on stable storage.
        DataSync = 1,
        /// Data and all metadata on stable storage.
        FileSync = 2,
    }
}

// ------------------------------------------------------------ CREATE / OPEN unions

/// ```text
/// union createtype4 switch (nfs_ftype4 type) {
///  case NF4LNK:
///          linktext4 linkdata;
///  case NF4BLK:
///  case NF4CHR:
///          specdata4 devdata;
///  case NF4SOCK:
///  case NF4FIFO:
///  case NF4DIR:
///          void;
///  default:
///          void;  /* server should return NFS4ERR_BADTYPE */
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Createtype4 {
    /// Symbolic link and its target (≤ [`LINKTEXT_DECODE_MAX_BYTES`]).
    Lnk(Vec<u8>),
    /// Block device.
    Blk(Specdata4),
    /// Character device.
    Chr(Specdata4),
    /// Socket.
    Sock,
    /// Named pipe.
    Fifo,
    /// Directory.
    Dir,
    /// NF4REG, NF4ATTRDIR or NF4NAMEDATTR: valid XDR, the server answers
    /// `NFS4ERR_BADTYPE` (RFC 8881 §18.4.3). Never holds the types above.
    Other(NfsFtype4),
}

impl<'a> XdrDecode<'a> for Createtype4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(match NfsFtype4::decode(d)? {
            NfsFtype4::Lnk => Createtype4::Lnk(linktext4::decode(d)?),
            NfsFtype4::Blk => Createtype4::Blk(Specdata4::decode(d)?),
            NfsFtype4::Chr => Createtype4::Chr(Specdata4::decode(d)?),
            NfsFtype4::Sock => Createtype4::Sock,
            NfsFtype4::Fifo => Createtype4::Fifo,
            NfsFtype4::Dir => Createtype4::Dir,
            t => Createtype4::Other(t),
        })
    }
}
impl XdrEncode for Createtype4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Createtype4::Lnk(l) => {
                NfsFtype4::Lnk.encode(e);
                e.put_opaque(l);
            }
            Createtype4::Blk(s) => {
                NfsFtype4::Blk.encode(e);
                s.encode(e);
            }
            Createtype4::Chr(s) => {
                NfsFtype4::Chr.encode(e);
                s.encode(e);
            }
            Createtype4::Sock => NfsFtype4::Sock.encode(e),
            Createtype4::Fifo => NfsFtype4::Fifo.encode(e),
            Createtype4::Dir => NfsFtype4::Dir.encode(e),
            Createtype4::Other(t) => t.encode(e),
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct creatverfattr {
    ///          verifier4      cva_verf;
    ///          fattr4         cva_attrs;
    /// };
    /// ```
    pub struct Creatverfattr {
        /// Exclusive-create verifier.
        pub cva_verf: Verifier4,
        /// Initial attributes.
        pub cva_attrs: Fattr4,
    }
}

/// ```text
/// enum createmode4 {
///         UNCHECKED4      = 0,
///         GUARDED4        = 1,
///         /* Deprecated in NFSv4.1. */
///         EXCLUSIVE4      = 2,
///         EXCLUSIVE4_1    = 3
/// };
///
/// union createhow4 switch (createmode4 mode) {
///  case UNCHECKED4:
///  case GUARDED4:
///          fattr4         createattrs;
///  case EXCLUSIVE4:
///          verifier4      createverf;
///  case EXCLUSIVE4_1:
///          creatverfattr  ch_createboth;
/// };
/// ```
/// `EXCLUSIVE4_1` is new in 4.1; it decodes in any minor version (the server
/// answers `NFS4ERR_INVAL` in 4.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Createhow4 {
    /// `UNCHECKED4`: create or open silently.
    Unchecked(Fattr4),
    /// `GUARDED4`: `NFS4ERR_EXIST` if the name exists.
    Guarded(Fattr4),
    /// `EXCLUSIVE4`: exclusive create keyed by the verifier.
    Exclusive(Verifier4),
    /// `EXCLUSIVE4_1`: verifier and initial attributes.
    Exclusive41(Creatverfattr),
}

impl<'a> XdrDecode<'a> for Createhow4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(Createhow4::Unchecked(Fattr4::decode(d)?)),
            1 => Ok(Createhow4::Guarded(Fattr4::decode(d)?)),
            2 => Ok(Createhow4::Exclusive(Verifier4::decode(d)?)),
            3 => Ok(Createhow4::Exclusive41(Creatverfattr::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "createmode4", value }),
        }
    }
}
impl XdrEncode for Createhow4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Createhow4::Unchecked(a) => {
                e.put_u32(0);
                a.encode(e);
            }
            Createhow4::Guarded(a) => {
                e.put_u32(1);
                a.encode(e);
            }
            Createhow4::Exclusive(v) => {
                e.put_u32(2);
                v.encode(e);
            }
            Createhow4::Exclusive41(c) => {
                e.put_u32(3);
                c.encode(e);
            }
        }
    }
}

/// ```text
/// enum opentype4 {
///         OPEN4_NOCREATE  = 0,
///         OPEN4_CREATE    = 1
/// };
///
/// union openflag4 switch (opentype4 opentype) {
///  case OPEN4_CREATE:
///          createhow4     how;
///  default:
///          void;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Openflag4 {
    /// `OPEN4_NOCREATE`.
    NoCreate,
    /// `OPEN4_CREATE` and how.
    Create(Createhow4),
}

impl<'a> XdrDecode<'a> for Openflag4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(Openflag4::NoCreate),
            1 => Ok(Openflag4::Create(Createhow4::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "opentype4", value }),
        }
    }
}
impl XdrEncode for Openflag4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Openflag4::NoCreate => e.put_u32(0),
            Openflag4::Create(h) => {
                e.put_u32(1);
                h.encode(e);
            }
        }
    }
}

xdr_enum! {
    /// ```text
    /// enum open_delegation_type4 {
    ///         OPEN_DELEGATE_NONE      = 0,
    ///         OPEN_DELEGATE_READ      = 1,
    ///         OPEN_DELEGATE_WRITE     = 2,
    ///         OPEN_DELEGATE_NONE_EXT  = 3 /* new to v4.1 */
    /// };
    /// ```
    pub enum OpenDelegationType4 as "open_delegation_type4" {
        /// `OPEN_DELEGATE_NONE`.
        None = 0,
        /// `OPEN_DELEGATE_READ`.
        Read = 1,
        /// `OPEN_DELEGATE_WRITE`.
        Write = 2,
        /// `OPEN_DELEGATE_NONE_EXT` (4.1).
        NoneExt = 3,
    }
}

xdr_struct! {
    /// ```text
    /// struct open_claim_delegate_cur4 {
    ///         stateid4        delegate_stateid;
    ///         component4      file;
    /// };
    /// ```
    pub struct OpenClaimDelegateCur4 {
        /// The delegation.
        pub delegate_stateid: Stateid4,
        /// Name in the current directory.
        pub file: Vec<u8> [component4],
    }
}

/// ```text
/// enum open_claim_type4 {
///         CLAIM_NULL              = 0,
///         CLAIM_PREVIOUS          = 1,
///         CLAIM_DELEGATE_CUR      = 2,
///         CLAIM_DELEGATE_PREV     = 3,
///         CLAIM_FH                = 4, /* new to v4.1 */
///         CLAIM_DELEG_CUR_FH      = 5, /* new to v4.1 */
///         CLAIM_DELEG_PREV_FH     = 6  /* new to v4.1 */
/// };
///
/// union open_claim4 switch (open_claim_type4 claim) {
///  case CLAIM_NULL:
///         /* CURRENT_FH: directory */
///         component4      file;
///  case CLAIM_PREVIOUS:
///         /* CURRENT_FH: file being reclaimed */
///         open_delegation_type4   delegate_type;
///  case CLAIM_DELEGATE_CUR:
///         /* CURRENT_FH: directory */
///         open_claim_delegate_cur4        delegate_cur_info;
///  case CLAIM_DELEGATE_PREV:
///          /* CURRENT_FH: directory */
///         component4      file_delegate_prev;
///  case CLAIM_FH: /* new to v4.1 */
///         /* CURRENT_FH: regular file to open */
///         void;
///  case CLAIM_DELEG_PREV_FH: /* new to v4.1 */
///         /* CURRENT_FH: file being opened */
///         void;
///  case CLAIM_DELEG_CUR_FH: /* new to v4.1 */
///          /* CURRENT_FH: file being opened */
///          stateid4       oc_delegate_stateid;
/// };
/// ```
/// The 4.1 claims decode in any minor version; the server answers
/// `NFS4ERR_INVAL` for them in 4.0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenClaim4 {
    /// `CLAIM_NULL`: the name in the current directory.
    Null(Vec<u8>),
    /// `CLAIM_PREVIOUS`: reclaim after a server restart.
    Previous(OpenDelegationType4),
    /// `CLAIM_DELEGATE_CUR`.
    DelegateCur(OpenClaimDelegateCur4),
    /// `CLAIM_DELEGATE_PREV`: the name in the current directory.
    DelegatePrev(Vec<u8>),
    /// `CLAIM_FH`: the current file handle.
    Fh,
    /// `CLAIM_DELEG_CUR_FH`.
    DelegCurFh(Stateid4),
    /// `CLAIM_DELEG_PREV_FH`.
    DelegPrevFh,
}

impl<'a> XdrDecode<'a> for OpenClaim4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(OpenClaim4::Null(component4::decode(d)?)),
            1 => Ok(OpenClaim4::Previous(OpenDelegationType4::decode(d)?)),
            2 => Ok(OpenClaim4::DelegateCur(OpenClaimDelegateCur4::decode(d)?)),
            3 => Ok(OpenClaim4::DelegatePrev(component4::decode(d)?)),
            4 => Ok(OpenClaim4::Fh),
            5 => Ok(OpenClaim4::DelegCurFh(Stateid4::decode(d)?)),
            6 => Ok(OpenClaim4::DelegPrevFh),
            value => Err(XdrError::BadEnum { name: "open_claim_type4", value }),
        }
    }
}
impl XdrEncode for OpenClaim4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            OpenClaim4::Null(f) => {
                e.put_u32(0);
                e.put_opaque(f);
            }
            OpenClaim4::Previous(t) => {
                e.put_u32(1);
                t.encode(e);
            }
            OpenClaim4::DelegateCur(c) => {
                e.put_u32(2);
                c.encode(e);
            }
            OpenClaim4::DelegatePrev(f) => {
                e.put_u32(3);
                e.put_opaque(f);
            }
            OpenClaim4::Fh => e.put_u32(4),
            OpenClaim4::DelegCurFh(s) => {
                e.put_u32(5);
                s.encode(e);
            }
            OpenClaim4::DelegPrevFh => e.put_u32(6),
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct nfs_modified_limit4 {
    ///         uint32_t        num_blocks;
    ///         uint32_t        bytes_per_block;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct NfsModifiedLimit4 {
        /// Number of blocks.
        pub num_blocks: u32,
        /// Block size.
        pub bytes_per_block: u32,
    }
}

/// ```text
/// enum limit_by4 {
///         NFS_LIMIT_SIZE          = 1,
///         NFS_LIMIT_BLOCKS        = 2
/// };
///
/// union nfs_space_limit4 switch (limit_by4 limitby) {
///  /* limit specified as file size */
///  case NFS_LIMIT_SIZE:
///          uint64_t               filesize;
///  /* limit specified by number of blocks */
///  case NFS_LIMIT_BLOCKS:
///          nfs_modified_limit4    mod_blocks;
/// } ;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NfsSpaceLimit4 {
    /// `NFS_LIMIT_SIZE`.
    Size(u64),
    /// `NFS_LIMIT_BLOCKS`.
    Blocks(NfsModifiedLimit4),
}

impl<'a> XdrDecode<'a> for NfsSpaceLimit4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            1 => Ok(NfsSpaceLimit4::Size(d.u64()?)),
            2 => Ok(NfsSpaceLimit4::Blocks(NfsModifiedLimit4::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "limit_by4", value }),
        }
    }
}
impl XdrEncode for NfsSpaceLimit4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            NfsSpaceLimit4::Size(s) => {
                e.put_u32(1);
                e.put_u64(*s);
            }
            NfsSpaceLimit4::Blocks(b) => {
                e.put_u32(2);
                b.encode(e);
            }
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct open_read_delegation4 {
    ///  stateid4 stateid;    /* Stateid for delegation*/
    ///  bool     recall;     /* Pre-recalled flag for
    ///                          delegations obtained
    ///                          by reclaim (CLAIM_PREVIOUS) */
    ///  nfsace4 permissions; /* Defines users who don't
    ///                          need an ACCESS call to
    ///                          open for read */
    /// };
    /// ```
    pub struct OpenReadDelegation4 {
        /// The delegation's stateid.
        pub stateid: Stateid4,
        /// Already recalled.
        pub recall: bool,
        /// Who may open for read without ACCESS.
        pub permissions: Nfsace4,
    }
}

xdr_struct! {
    /// ```text
    /// struct open_write_delegation4 {
    ///  stateid4 stateid;      /* Stateid for delegation */
    ///  bool     recall;       /* Pre-recalled flag */
    ///  nfs_space_limit4
    ///            space_limit; /* Defines condition that
    ///                            the client must check to
    ///                            determine whether the
    ///                            file needs to be flushed
    ///                            to the server on close.  */
    ///  nfsace4   permissions; /* Defines users who don't
    ///                            need an ACCESS call as
    ///                            part of a delegated
    ///                            open. */
    /// };
    /// ```
    pub struct OpenWriteDelegation4 {
        /// The delegation's stateid.
        pub stateid: Stateid4,
        /// Already recalled.
        pub recall: bool,
        /// When the client must flush on close.
        pub space_limit: NfsSpaceLimit4,
        /// Who may open without ACCESS.
        pub permissions: Nfsace4,
    }
}

xdr_enum! {
    /// ```text
    /// enum why_no_delegation4 { /* new to v4.1 */
    ///         WND4_NOT_WANTED         = 0,
    ///         WND4_CONTENTION         = 1,
    ///         WND4_RESOURCE           = 2,
    ///         WND4_NOT_SUPP_FTYPE     = 3,
    ///         WND4_WRITE_DELEG_NOT_SUPP_FTYPE = 4,
    ///         WND4_NOT_SUPP_UPGRADE   = 5,
    ///         WND4_NOT_SUPP_DOWNGRADE = 6,
    ///         WND4_CANCELLED          = 7,
    ///         WND4_IS_DIR             = 8
    /// };
    /// ```
    pub enum WhyNoDelegation4 as "why_no_delegation4" {
        /// `WND4_NOT_WANTED`.
        NotWanted = 0,
        /// `WND4_CONTENTION`.
        Contention = 1,
        /// `WND4_RESOURCE`.
        Resource = 2,
        /// `WND4_NOT_SUPP_FTYPE`.
        NotSuppFtype = 3,
        /// `WND4_WRITE_DELEG_NOT_SUPP_FTYPE`.
        WriteDelegNotSuppFtype = 4,
        /// `WND4_NOT_SUPP_UPGRADE`.
        NotSuppUpgrade = 5,
        /// `WND4_NOT_SUPP_DOWNGRADE`.
        NotSuppDowngrade = 6,
        /// `WND4_CANCELLED`.
        Cancelled = 7,
        /// `WND4_IS_DIR`.
        IsDir = 8,
    }
}

/// ```text
/// union open_none_delegation4 /* new to v4.1 */
/// switch (why_no_delegation4 ond_why) {
///         case WND4_CONTENTION:
///                 bool ond_server_will_push_deleg;
///         case WND4_RESOURCE:
///                 bool ond_server_will_signal_avail;
///         default:
///                 void;
/// };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenNoneDelegation4 {
    /// `WND4_CONTENTION` and `ond_server_will_push_deleg`.
    Contention(bool),
    /// `WND4_RESOURCE` and `ond_server_will_signal_avail`.
    Resource(bool),
    /// Any other reason (never `Contention` or `Resource`).
    Other(WhyNoDelegation4),
}

impl<'a> XdrDecode<'a> for OpenNoneDelegation4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(match WhyNoDelegation4::decode(d)? {
            WhyNoDelegation4::Contention => OpenNoneDelegation4::Contention(d.bool()?),
            WhyNoDelegation4::Resource => OpenNoneDelegation4::Resource(d.bool()?),
            w => OpenNoneDelegation4::Other(w),
        })
    }
}
impl XdrEncode for OpenNoneDelegation4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            OpenNoneDelegation4::Contention(b) => {
                WhyNoDelegation4::Contention.encode(e);
                e.put_bool(*b);
            }
            OpenNoneDelegation4::Resource(b) => {
                WhyNoDelegation4::Resource.encode(e);
                e.put_bool(*b);
            }
            OpenNoneDelegation4::Other(w) => w.encode(e),
        }
    }
}

/// ```text
/// union open_delegation4
/// switch (open_delegation_type4 delegation_type) {
///         case OPEN_DELEGATE_NONE:
///                 void;
///         case OPEN_DELEGATE_READ:
///                 open_read_delegation4 read;
///         case OPEN_DELEGATE_WRITE:
///                 open_write_delegation4 write;
///         case OPEN_DELEGATE_NONE_EXT: /* new to v4.1 */
///                 open_none_delegation4 od_whynone;
/// };
/// ```
/// Cairn grants no delegations: it answers `None` (4.0) or
/// `NoneExt(OpenNoneDelegation4::Other(WhyNoDelegation4::NotWanted))`
/// and the like (4.1, when the client asked for one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenDelegation4 {
    /// `OPEN_DELEGATE_NONE`.
    None,
    /// `OPEN_DELEGATE_READ`.
    Read(OpenReadDelegation4),
    /// `OPEN_DELEGATE_WRITE`.
    Write(OpenWriteDelegation4),
    /// `OPEN_DELEGATE_NONE_EXT` (4.1): why not.
    NoneExt(OpenNoneDelegation4),
}

impl<'a> XdrDecode<'a> for OpenDelegation4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        Ok(match OpenDelegationType4::decode(d)? {
            OpenDelegationType4::None => OpenDelegation4::None,
            OpenDelegationType4::Read => OpenDelegation4::Read(OpenReadDelegation4::decode(d)?),
            OpenDelegationType4::Write => OpenDelegation4::Write(OpenWriteDelegation4::decode(d)?),
            OpenDelegationType4::NoneExt => {
                OpenDelegation4::NoneExt(OpenNoneDelegation4::decode(d)?)
            }
        })
    }
}
impl XdrEncode for OpenDelegation4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            OpenDelegation4::None => OpenDelegationType4::None.encode(e),
            OpenDelegation4::Read(r) => {
                OpenDelegationType4::Read.encode(e);
                r.encode(e);
            }
            OpenDelegation4::Write(w) => {
                OpenDelegationType4::Write.encode(e);
                w.encode(e);
            }
            OpenDelegation4::NoneExt(n) => {
                OpenDelegationType4::NoneExt.encode(e);
                n.encode(e);
            }
        }
    }
}

// ------------------------------------------------------------ LOCK unions

xdr_struct! {
    /// ```text
    /// struct open_to_lock_owner4 {
    ///         seqid4          open_seqid;
    ///         stateid4        open_stateid;
    ///         seqid4          lock_seqid;
    ///         lock_owner4     lock_owner;
    /// };
    /// ```
    pub struct OpenToLockOwner4 {
        /// Open-owner sequence id (4.0; ignored in 4.1).
        pub open_seqid: u32,
        /// The open the lock derives from.
        pub open_stateid: Stateid4,
        /// Lock-owner sequence id (4.0; ignored in 4.1).
        pub lock_seqid: u32,
        /// The new lock owner.
        pub lock_owner: LockOwner4,
    }
}

xdr_struct! {
    /// ```text
    /// struct exist_lock_owner4 {
    ///         stateid4        lock_stateid;
    ///         seqid4          lock_seqid;
    /// };
    /// ```
    #[derive(Copy)]
    pub struct ExistLockOwner4 {
        /// The lock owner's stateid.
        pub lock_stateid: Stateid4,
        /// Lock-owner sequence id (4.0; ignored in 4.1).
        pub lock_seqid: u32,
    }
}

/// ```text
/// union locker4 switch (bool new_lock_owner) {
///  case TRUE:
///         open_to_lock_owner4     open_owner;
///  case FALSE:
///         exist_lock_owner4       lock_owner;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Locker4 {
    /// `new_lock_owner` TRUE: the first lock of this lock owner on the open.
    OpenOwner(OpenToLockOwner4),
    /// `new_lock_owner` FALSE: an existing lock stateid.
    LockOwner(ExistLockOwner4),
}

impl<'a> XdrDecode<'a> for Locker4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        if d.bool()? {
            Ok(Locker4::OpenOwner(OpenToLockOwner4::decode(d)?))
        } else {
            Ok(Locker4::LockOwner(ExistLockOwner4::decode(d)?))
        }
    }
}
impl XdrEncode for Locker4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Locker4::OpenOwner(o) => {
                e.put_bool(true);
                o.encode(e);
            }
            Locker4::LockOwner(l) => {
                e.put_bool(false);
                l.encode(e);
            }
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct LOCK4denied {
    ///         offset4         offset;
    ///         length4         length;
    ///         nfs_lock_type4  locktype;
    ///         lock_owner4     owner;
    /// };
    /// ```
    pub struct LockDenied4 {
        /// Start of the conflicting lock.
        pub offset: u64,
        /// Its length.
        pub length: u64,
        /// Its type.
        pub locktype: NfsLockType4,
        /// Its owner.
        pub owner: LockOwner4,
    }
}

// ------------------------------------------------------------ SECINFO

xdr_enum! {
    /// ```text
    /// enum rpc_gss_svc_t {
    ///         RPC_GSS_SVC_NONE        = 1,
    ///         RPC_GSS_SVC_INTEGRITY   = 2,
    ///         RPC_GSS_SVC_PRIVACY     = 3
    /// };
    /// ```
    pub enum RpcGssSvc as "rpc_gss_svc_t" {
        /// Authentication only.
        None = 1,
        /// Integrity.
        Integrity = 2,
        /// Privacy.
        Privacy = 3,
    }
}

xdr_struct! {
    /// ```text
    /// typedef opaque  sec_oid4<>;
    /// typedef uint32_t        qop4;
    ///
    /// struct rpcsec_gss_info {
    ///         sec_oid4        oid;
    ///         qop4            qop;
    ///         rpc_gss_svc_t   service;
    /// };
    /// ```
    pub struct RpcsecGssInfo {
        /// Mechanism OID (DER).
        pub oid: Vec<u8> [utf8str],
        /// Quality of protection.
        pub qop: u32,
        /// Service.
        pub service: RpcGssSvc,
    }
}

/// ```text
/// /* RPCSEC_GSS has a value of '6' - See RFC 2203 */
/// union secinfo4 switch (uint32_t flavor) {
///  case RPCSEC_GSS:
///          rpcsec_gss_info        flavor_info;
///  default:
///          void;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secinfo4 {
    /// A flavor without parameters, e.g. `AUTH_SYS`, `AUTH_NONE`; never
    /// `RPCSEC_GSS`.
    Flavor(u32),
    /// `RPCSEC_GSS` and its mechanism.
    RpcsecGss(RpcsecGssInfo),
}

impl<'a> XdrDecode<'a> for Secinfo4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            RPCSEC_GSS => Ok(Secinfo4::RpcsecGss(RpcsecGssInfo::decode(d)?)),
            f => Ok(Secinfo4::Flavor(f)),
        }
    }
}
impl XdrEncode for Secinfo4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            Secinfo4::Flavor(f) => e.put_u32(*f),
            Secinfo4::RpcsecGss(i) => {
                e.put_u32(RPCSEC_GSS);
                i.encode(e);
            }
        }
    }
}

xdr_enum! {
    /// ```text
    /// enum secinfo_style4 {
    ///         SECINFO_STYLE4_CURRENT_FH       = 0,
    ///         SECINFO_STYLE4_PARENT           = 1
    /// };
    ///
    /// typedef secinfo_style4 SECINFO_NO_NAME4args;
    /// ```
    pub enum SecinfoStyle4 as "secinfo_style4" {
        /// The current file handle.
        CurrentFh = 0,
        /// Its parent.
        Parent = 1,
    }
}

// ------------------------------------------------------------ 4.1 client id and session

xdr_struct! {
    /// ```text
    /// struct state_protect_ops4 {
    ///         bitmap4 spo_must_enforce;
    ///         bitmap4 spo_must_allow;
    /// };
    /// ```
    pub struct StateProtectOps4 {
        /// Operations that must use the protected credential.
        pub spo_must_enforce: Bitmap4,
        /// Operations that may use it.
        pub spo_must_allow: Bitmap4,
    }
}

xdr_struct! {
    /// ```text
    /// struct ssv_sp_parms4 {
    ///         state_protect_ops4      ssp_ops;
    ///         sec_oid4                ssp_hash_algs<>;
    ///         sec_oid4                ssp_encr_algs<>;
    ///         uint32_t                ssp_window;
    ///         uint32_t                ssp_num_gss_handles;
    /// };
    /// ```
    pub struct SsvSpParms4 {
        /// Protected operations.
        pub ssp_ops: StateProtectOps4,
        /// Hash algorithm OIDs.
        pub ssp_hash_algs: Vec<Vec<u8>> [opaque_list],
        /// Encryption algorithm OIDs.
        pub ssp_encr_algs: Vec<Vec<u8>> [opaque_list],
        /// SSV window.
        pub ssp_window: u32,
        /// GSS handles wanted.
        pub ssp_num_gss_handles: u32,
    }
}

/// ```text
/// enum state_protect_how4 {
///         SP4_NONE = 0,
///         SP4_MACH_CRED = 1,
///         SP4_SSV = 2
/// };
///
/// union state_protect4_a switch(state_protect_how4 spa_how) {
///         case SP4_NONE:
///                 void;
///         case SP4_MACH_CRED:
///                 state_protect_ops4      spa_mach_ops;
///         case SP4_SSV:
///                 ssv_sp_parms4           spa_ssv_parms;
/// };
/// ```
/// All arms decode so the server can refuse `SP4_MACH_CRED` and `SP4_SSV`
/// with a status rather than `NFS4ERR_BADXDR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateProtect4A {
    /// `SP4_NONE`.
    None,
    /// `SP4_MACH_CRED`.
    MachCred(StateProtectOps4),
    /// `SP4_SSV`.
    Ssv(SsvSpParms4),
}

impl<'a> XdrDecode<'a> for StateProtect4A {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(StateProtect4A::None),
            1 => Ok(StateProtect4A::MachCred(StateProtectOps4::decode(d)?)),
            2 => Ok(StateProtect4A::Ssv(SsvSpParms4::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "state_protect_how4", value }),
        }
    }
}
impl XdrEncode for StateProtect4A {
    fn encode(&self, e: &mut Encoder) {
        match self {
            StateProtect4A::None => e.put_u32(0),
            StateProtect4A::MachCred(o) => {
                e.put_u32(1);
                o.encode(e);
            }
            StateProtect4A::Ssv(p) => {
                e.put_u32(2);
                p.encode(e);
            }
        }
    }
}

xdr_struct! {
    /// ```text
    /// typedef opaque gsshandle4_t<>;
    ///
    /// struct ssv_prot_info4 {
    ///  state_protect_ops4     spi_ops;
    ///  uint32_t               spi_hash_alg;
    ///  uint32_t               spi_encr_alg;
    ///  uint32_t               spi_ssv_len;
    ///  uint32_t               spi_window;
    ///  gsshandle4_t           spi_handles<>;
    /// };
    /// ```
    pub struct SsvProtInfo4 {
        /// Protected operations.
        pub spi_ops: StateProtectOps4,
        /// Index of the chosen hash algorithm.
        pub spi_hash_alg: u32,
        /// Index of the chosen encryption algorithm.
        pub spi_encr_alg: u32,
        /// SSV length.
        pub spi_ssv_len: u32,
        /// SSV window.
        pub spi_window: u32,
        /// GSS handles.
        pub spi_handles: Vec<Vec<u8>> [opaque_list],
    }
}

/// ```text
/// union state_protect4_r switch(state_protect_how4 spr_how) {
///  case SP4_NONE:
///          void;
///  case SP4_MACH_CRED:
///          state_protect_ops4     spr_mach_ops;
///  case SP4_SSV:
///          ssv_prot_info4         spr_ssv_info;
/// };
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateProtect4R {
    /// `SP4_NONE`.
    None,
    /// `SP4_MACH_CRED`.
    MachCred(StateProtectOps4),
    /// `SP4_SSV`.
    Ssv(SsvProtInfo4),
}

impl<'a> XdrDecode<'a> for StateProtect4R {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            0 => Ok(StateProtect4R::None),
            1 => Ok(StateProtect4R::MachCred(StateProtectOps4::decode(d)?)),
            2 => Ok(StateProtect4R::Ssv(SsvProtInfo4::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "state_protect_how4", value }),
        }
    }
}
impl XdrEncode for StateProtect4R {
    fn encode(&self, e: &mut Encoder) {
        match self {
            StateProtect4R::None => e.put_u32(0),
            StateProtect4R::MachCred(o) => {
                e.put_u32(1);
                o.encode(e);
            }
            StateProtect4R::Ssv(p) => {
                e.put_u32(2);
                p.encode(e);
            }
        }
    }
}

xdr_struct! {
    /// ```text
    /// struct channel_attrs4 {
    ///         count4                  ca_headerpadsize;
    ///         count4                  ca_maxrequestsize;
    ///         count4                  ca_maxresponsesize;
    ///         count4                  ca_maxresponsesize_cached;
    ///         count4                  ca_maxoperations;
    ///         count4                  ca_maxrequests;
    ///         uint32_t                ca_rdma_ird<1>;
    /// };
    /// ```
    #[derive(Default)]
    pub struct ChannelAttrs4 {
        /// Header padding.
        pub ca_headerpadsize: u32,
        /// Largest request in bytes.
        pub ca_maxrequestsize: u32,
        /// Largest reply in bytes.
        pub ca_maxresponsesize: u32,
        /// Largest cached reply in bytes.
        pub ca_maxresponsesize_cached: u32,
        /// Most operations in a COMPOUND.
        pub ca_maxoperations: u32,
        /// Slots.
        pub ca_maxrequests: u32,
        /// RDMA inbound read depth (RDMA only).
        pub ca_rdma_ird: Option<u32> [array1],
    }
}

xdr_struct! {
    /// ```text
    /// struct gss_cb_handles4 {
    ///         rpc_gss_svc_t           gcbp_service; /* RFC 2203 */
    ///         gsshandle4_t            gcbp_handle_from_server;
    ///         gsshandle4_t            gcbp_handle_from_client;
    /// };
    /// ```
    pub struct GssCbHandles4 {
        /// Service.
        pub gcbp_service: RpcGssSvc,
        /// Server's handle.
        pub gcbp_handle_from_server: Vec<u8> [utf8str],
        /// Client's handle.
        pub gcbp_handle_from_client: Vec<u8> [utf8str],
    }
}

/// ```text
/// union callback_sec_parms4 switch (uint32_t cb_secflavor) {
/// case AUTH_NONE:
///         void;
/// case AUTH_SYS:
///         authsys_parms   cbsp_sys_cred; /* RFC 1831 */
/// case RPCSEC_GSS:
///         gss_cb_handles4 cbsp_gss_handles;
/// };
/// ```
/// Any other flavor is invalid XDR (the union has no default arm).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackSecParms4 {
    /// `AUTH_NONE`.
    AuthNone,
    /// `AUTH_SYS` and the credential to use on callbacks.
    AuthSys(AuthSys),
    /// `RPCSEC_GSS`.
    RpcsecGss(GssCbHandles4),
}

impl<'a> XdrDecode<'a> for CallbackSecParms4 {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match d.u32()? {
            AUTH_NONE => Ok(CallbackSecParms4::AuthNone),
            AUTH_SYS => Ok(CallbackSecParms4::AuthSys(AuthSys::decode(d)?)),
            RPCSEC_GSS => Ok(CallbackSecParms4::RpcsecGss(GssCbHandles4::decode(d)?)),
            value => Err(XdrError::BadEnum { name: "callback_sec_parms4", value }),
        }
    }
}
impl XdrEncode for CallbackSecParms4 {
    fn encode(&self, e: &mut Encoder) {
        match self {
            CallbackSecParms4::AuthNone => e.put_u32(AUTH_NONE),
            CallbackSecParms4::AuthSys(s) => {
                e.put_u32(AUTH_SYS);
                s.encode(e);
            }
            CallbackSecParms4::RpcsecGss(g) => {
                e.put_u32(RPCSEC_GSS);
                g.encode(e);
            }
        }
    }
}

xdr_enum! {
    /// ```text
    /// enum channel_dir_from_client4 {
    ///  CDFC4_FORE             = 0x1,
    ///  CDFC4_BACK             = 0x2,
    ///  CDFC4_FORE_OR_BOTH     = 0x3,
    ///  CDFC4_BACK_OR_BOTH     = 0x7
    /// };
    /// ```
    pub enum ChannelDirFromClient4 as "channel_dir_from_client4" {
        /// `CDFC4_FORE`.
        Fore = 1,
        /// `CDFC4_BACK`.
        Back = 2,
        /// `CDFC4_FORE_OR_BOTH`.
        ForeOrBoth = 3,
        /// `CDFC4_BACK_OR_BOTH`.
        BackOrBoth = 7,
    }
}

xdr_enum! {
    /// ```text
    /// enum channel_dir_from_server4 {
    ///  CDFS4_FORE     = 0x1,
    ///  CDFS4_BACK     = 0x2,
    ///  CDFS4_BOTH     = 0x3
    /// };
    /// ```
    pub enum ChannelDirFromServer4 as "channel_dir_from_server4" {
        /// `CDFS4_FORE`.
        Fore = 1,
        /// `CDFS4_BACK`.
        Back = 2,
        /// `CDFS4_BOTH`.
        Both = 3,
    }
}

// ------------------------------------------------------------ results

/// The result of most operations: `union XXX4res switch (nfsstat4 status) {
/// case NFS4_OK: XXX4resok resok4; default: void; };`
///
/// `Err(Nfsstat4::Ok)` must not be built: it would encode a success status
/// without its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NfsRes4<T> {
    /// `NFS4_OK` and the success body.
    Ok(T),
    /// Any other status (no body).
    Err(Nfsstat4),
}

impl<T> NfsRes4<T> {
    /// The status this result encodes.
    pub fn status(&self) -> Nfsstat4 {
        match self {
            NfsRes4::Ok(_) => Nfsstat4::Ok,
            NfsRes4::Err(s) => *s,
        }
    }
}

impl<T> From<Result<T, Nfsstat4>> for NfsRes4<T> {
    fn from(r: Result<T, Nfsstat4>) -> Self {
        match r {
            Ok(v) => NfsRes4::Ok(v),
            Err(s) => NfsRes4::Err(s),
        }
    }
}

impl<'a, T: XdrDecode<'a>> XdrDecode<'a> for NfsRes4<T> {
    fn decode(d: &mut Decoder<'a>) -> Result<Self, XdrError> {
        match Nfsstat4::decode(d)? {
            Nfsstat4::Ok => Ok(NfsRes4::Ok(T::decode(d)?)),
            s => Ok(NfsRes4::Err(s)),
        }
    }
}
impl<T: XdrEncode> XdrEncode for NfsRes4<T> {
    fn encode(&self, e: &mut Encoder) {
        match self {
            NfsRes4::Ok(t) => {
                Nfsstat4::Ok.encode(e);
                t.encode(e);
            }
            NfsRes4::Err(s) => s.encode(e),
        }
    }
}

// ------------------------------------------------------------ READDIR entries

xdr_struct! {
    /// ```text
    /// struct entry4 {
    ///         nfs_cookie4     cookie;
    ///         component4      name;
    ///         fattr4          attrs;
    ///         entry4          *nextentry;
    /// };
    /// ```
    pub struct Entry4 {
        /// Cookie to resume after this entry (never 0, 1 or 2: reserved,
        /// RFC 8881 §18.23.3).
        pub cookie: u64,
        /// Name.
        pub name: Vec<u8> [component4],
        /// The attributes asked for in `attr_request` (with `rdattr_error`
        /// when they could not be read).
        pub attrs: Fattr4,
    }
}

impl Entry4 {
    /// Encoded size of this entry in a READDIR reply, including its
    /// `value_follows` word: what counts against `maxcount`.
    pub fn encoded_len(&self) -> usize {
        entry4_encoded_len(self.name.len(), &self.attrs)
    }

    /// The directory-information part (cookie and name) that counts against
    /// `dircount` (RFC 8881 §18.23.3, RFC 7530 §16.24).
    pub fn dircount_len(&self) -> usize {
        8 + opaque_len(self.name.len())
    }
}

/// Encoded size of an `entry4` with a name of `name_len` bytes and
/// attributes `attrs`, including its `value_follows` word — for a server
/// that wants the size before building the entry.
pub fn entry4_encoded_len(name_len: usize, attrs: &Fattr4) -> usize {
    4 + 8 + opaque_len(name_len) + attrs.encoded_len()
}
