// OAuth 2.0 Form Post Response Mode §2: submit the response at once when scripts run;
// without JavaScript the visible button does the same.
document.getElementById("form_post").submit();
