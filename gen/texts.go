package gen

// Message texts (read-only tables). Bodies are not stored by closedloop;
// they are here so the webhooks look like real traffic when someone reads them.

var (
	botGreetings = []string{
		"Hi! I'm the Northwind assistant. I can help with that.",
		"Thanks for your message. Let me check that for you.",
		"Hello! Please choose one of the options below.",
	}
	botAnswers = []string{
		"Here is what I found on your account.",
		"Your last payment was received and applied on time.",
		"You can download the document from the app under Statements.",
		"Your request has been registered. Anything else?",
	}
	botHandoverLines = []string{
		"I'm connecting you with a colleague who can help. Usual wait is a few minutes.",
		"Let me pass you to one of our agents.",
		"I couldn't complete this here, a member of the team will take over.",
	}
	botClosings  = []string{"Glad I could help. Have a nice day!", "You're welcome! Bye for now."}
	botQuestions = []string{
		"Could you tell me a bit more?",
		"Which account is this about?",
		"Please choose an option from the list.",
	}
	customerFollowUps = []string{"ok", "It's about my current account", "yes", "no, the other one", "the one ending 4471", "I already did that"}
	customerNudges    = []string{"hello?", "Is anyone there?", "still waiting", "??"}
	customerThanks    = []string{"thanks", "Thank you!", "great, thanks", "ok perfect"}
	customerReopeners = []string{"Sorry, one more thing", "It still doesn't work", "I got another letter about this", "Hi again"}
	followUpOpeners   = []string{"I wrote yesterday about this", "Following up on my previous message", "Any update on my case?"}
	agentOpeners      = []string{
		"Hi, this is %s from Northwind, I'm looking at your account now.",
		"Hello, %s here. Thanks for waiting, how can I help?",
		"Good day, my name is %s. I can see your message.",
	}
	agentLines = []string{
		"I've checked and corrected it, you'll see it on your next statement.",
		"Could you confirm your date of birth, please?",
		"I've raised this with the team and added a note to your account.",
		"Thanks, that's done now.",
		"I've sent the document to your registered email.",
	}
	agentClosings = []string{"You're welcome, have a good day!", "Happy to help. Take care!"}
	dates         = []string{"Friday", "next Monday", "the 15th", "the 28th", "end of month"}
)
