"""What analysts read: the HTML evidence report, saved queries, exports, PRISMA counts and screening."""
