# SPEC §5, GET /users/me — spelled exactly as on the wire ([anti-abuse] adds isSuspended and creditExpiry).
PROFILE_FIELDS = {
    "id",
    "username",
    "email",
    "creditBalance",
    "totalVolume",
    "overallPnL",
    "rankByPnL",
    "rankByVolume",
    "referralCode",
    "dailyStreak",
    "isStaff",
    "isSuspended",
    "creditExpiry",
    "createdAt",
    "lastDailyRewardAt",
}
